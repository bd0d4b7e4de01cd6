"""Read a YAML (or JSON) document with bounds, and map every path in it to its line.

PyYAML shares the object behind an alias, so a few hundred bytes of nested aliases ("billion
laughs") describe a document with billions of nodes, and anything that walks it (the line map,
schema validation, JSON output) runs out of memory. Before anything is built, the node tree is
measured: size of the text, number of aliases, nesting depth, and the node count with every
alias expanded. A document over a bound, or one that refers to itself, is refused with one line.
"""

from __future__ import annotations

from typing import Any

import yaml

from .spec import GraphError

MAX_BYTES = 1_000_000  # a graph file is a few KB
MAX_ALIASES = 100
MAX_DEPTH = 64  # mappings/sequences inside each other
MAX_NODES = 50_000  # scalars, mappings and sequences, every alias expanded

PathKey = tuple[Any, ...]


class _Limit(Exception):
    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts aliases and depth while composing (before anything is expanded)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Limit(f"more than {MAX_ALIASES} aliases (*name); write the values out", event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Limit(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(root: yaml.Node) -> int:
    """Node count with aliases expanded (memoised per shared node); raises _Limit past MAX_NODES
    or on a node that contains itself."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Limit("an alias refers to a node that contains it (a recursive document)", node.start_mark)
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += size(v)
                if total > MAX_NODES:
                    break
        active.discard(key)
        if total > MAX_NODES:
            raise _Limit(f"more than {MAX_NODES} values once aliases are expanded", node.start_mark)
        sizes[key] = total
        return total

    return size(root)  # depth is bounded by MAX_DEPTH, so recursion is too


def read_yaml(text: str, source: str) -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML/JSON text into data and a map from each path in it to its 1-based line.

    Raises GraphError (one line, with file and line) for bad syntax and for documents over a bound.
    """
    if len(text) > MAX_BYTES:
        raise GraphError(f"file too large ({len(text)} characters; at most {MAX_BYTES})", source=source)
    deep = _flow_depth_over(text, MAX_DEPTH)
    if deep is not None:  # caught before the scanner walks a long run of brackets
        raise GraphError(f"refused: nested deeper than {MAX_DEPTH} levels", source=source, line=deep)
    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters here, before any parsing
    except yaml.YAMLError as e:
        raise GraphError(f"not valid YAML/JSON: {' '.join(str(e).split())}", source=source) from None
    try:
        root = loader.get_single_node()
        if root is not None:
            _expanded_size(root)
        data = loader.construct_document(root) if root is not None else None
    except _Limit as e:
        raise GraphError(f"refused: {e}", source=source, line=e.line) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        ctx = f" ({e.context} that starts at line {e.context_mark.line + 1})" if e.context and e.context_mark \
            and e.context_mark.line + 1 != line else ""
        raise GraphError(f"not valid YAML/JSON: {e.problem or e}{ctx}", source=source, line=line) from None
    except yaml.YAMLError as e:
        raise GraphError(f"not valid YAML/JSON: {e}", source=source) from None
    except RecursionError:  # a bound above should always come first; never a traceback
        raise GraphError(f"refused: nested too deeply (at most {MAX_DEPTH} levels)", source=source) from None
    finally:
        loader.dispose()
    lines: dict[PathKey, int] = {}
    if root is not None:
        _walk(root, (), lines)
    return data, lines


def _flow_depth_over(text: str, limit: int) -> int | None:
    """The line where unquoted [ / { brackets (outside comments) nest deeper than `limit`, else None.
    A quick pre-check only: the composer's depth bound is the rule."""
    depth, line, quote, i, n = 0, 1, "", 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'" and (i == 0 or text[i - 1] in " \t\n[{,:"):
            quote = c
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n"):
            end = text.find("\n", i)
            i = n if end < 0 else end - 1
        elif c in "[{":
            depth += 1
            if depth > limit:
                return line
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return None


def _walk(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            lines[(*path, key, "<key>")] = k.start_mark.line + 1
            _walk(v, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _walk(v, (*path, i), lines)


def line_of(lines: dict[PathKey, int], path: PathKey) -> int | None:
    """The line of `path`, else of its nearest ancestor that has one."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get(())


def check_shape(data: Any, source: str) -> None:
    """The same bounds for data that did not come from YAML (a dict built in Python, a model's JSON).

    Shared containers count once per use, so a self-containing one fails the depth bound."""
    count = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise GraphError(f"refused: more than {MAX_NODES} values", source=source)
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise GraphError(f"refused: nested deeper than {MAX_DEPTH} levels", source=source)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)
