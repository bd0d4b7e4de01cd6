"""Which names a node reads: the references behind graph dependencies, validation and drawing."""

from __future__ import annotations

from .expr import names as expr_names
from .spec import Cond, Node
from .templates import template_refs


def cond_refs(c: Cond) -> list[str]:
    """Names a condition reads (an expression's names, or a yes/no question's template references)."""
    if c.expr is not None:
        return sorted(expr_names(c.expr))
    return template_refs(c.ask or "")


def node_refs(n: Node, is_graph: bool) -> list[str]:
    """Names a node's own fields read (nested bodies excluded); raises ExprError on a bad expression.

    In a graph, `after` counts as a reference too."""
    refs: list[str] = []
    for t in (n.ask, n.system):
        if t:
            refs += template_refs(t)
    if isinstance(n.compute, str):
        refs += sorted(expr_names(n.compute))
    elif isinstance(n.compute, dict):
        for e in n.compute.values():
            refs += sorted(expr_names(e))
    for a in n.args.values():
        if isinstance(a, str):
            refs += template_refs(a)
    if n.branch:
        refs += cond_refs(n.branch)
    if n.kind == "output" and isinstance(n.output, str):
        refs += template_refs(n.output)
    if n.loop and n.loop.start:
        refs += template_refs(n.loop.start)
    if is_graph:
        refs += n.after
    return list(dict.fromkeys(refs))


def graph_refs(n: Node) -> list[str]:
    """Names a graph node depends on from outside: its own references, and for a loop node also
    what its body and exit condition read from outside the body. Raises ExprError."""
    refs = node_refs(n, True)
    if n.loop:
        inner = {b.id for b in n.loop.body}
        for b in n.loop.body:
            refs += [r for r in node_refs(b, True) if r not in inner]
        if n.loop.until is not None:
            refs += [r for r in cond_refs(n.loop.until) if r not in inner]
    return list(dict.fromkeys(refs))
