"""The package layout stays as docs/ARCHITECTURE.md draws it: layers read top-down, no cycles.

Every import in src/reasonlab counts, lazy ones inside functions included. A module may import
modules of its own layer or of a lower one; never a higher one; and no import cycle anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = "reasonlab"

# Highest layer first. A module belongs to the first entry that is its name or a package above it.
LAYERS: list[tuple[str, ...]] = [
    ("reasonlab", "reasonlab.__main__", "reasonlab.cli", "reasonlab.server", "reasonlab.web"),  # interfaces
    ("reasonlab.eval",),                                                               # harness
    ("reasonlab.api",),                                                                # run / preview
    ("reasonlab.strategies",),                                                         # how to answer
    ("reasonlab.graphs", "reasonlab.planning", "reasonlab.tools", "reasonlab.exemplars"),  # structures
    ("reasonlab.context", "reasonlab.cache"),                                           # run context
    ("reasonlab.models", "reasonlab.sandbox", "reasonlab.answers", "reasonlab.problem",  # foundations
     "reasonlab.conversation", "reasonlab.errors", "reasonlab.prompts", "reasonlab.jsonl",
     "reasonlab.discover", "reasonlab.options", "reasonlab.trace"),
]
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PKG).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every reasonlab module `name` imports (absolute or relative, at any depth of the file)."""
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # `import reasonlab.x.y` → the deepest known module
                t = t.rpartition(".")[0]
            if t.startswith(PKG) and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {m: imports_of(m, p, known) for m, p in mods.items()}


def layer_of(mod: str) -> int:
    best, rank = -1, None
    for i, group in enumerate(LAYERS):
        for prefix in group:
            if (mod == prefix or mod.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), len(LAYERS) - i
    if rank is None:
        raise AssertionError(f"{mod} is in no layer: add it to LAYERS and to docs/ARCHITECTURE.md")
    return rank


def test_every_module_has_a_layer():
    for mod in modules():
        layer_of(mod)


def test_no_lower_layer_imports_a_higher_one():
    bad = [f"{a} (layer {layer_of(a)}) imports {b} (layer {layer_of(b)})"
           for a, targets in graph().items() for b in sorted(targets) if layer_of(b) > layer_of(a)]
    assert not bad, "\n".join(bad)


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as a list of modules, or None (iterative DFS with colours)."""
    colour = dict.fromkeys(g, 0)
    for start in g:
        if colour[start]:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(g[start]))]
        path = [start]
        colour[start] = 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                colour[node] = 2
                stack.pop()
                path.pop()
                continue
            nxt = todo.pop()
            if colour.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if colour.get(nxt) == 0:
                colour[nxt] = 1
                stack.append((nxt, sorted(g[nxt])))
                path.append(nxt)
    return None


def test_no_import_cycle():
    g = graph()
    # A package's __init__ re-exporting its own submodules is not a cycle by itself; a submodule
    # importing its package's __init__ back is.
    cycle = find_cycle(g)
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("path", sorted((SRC / PKG).rglob("*.py")), ids=lambda p: module_name(p))
def test_module_size(path: Path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines (max {MAX_LINES}): split it"


def test_no_two_modules_of_one_name_outside_parallel_roles():
    """Same file name in two packages only where it is the same role (e.g. each package's `base`).

    Modules named after what the user types are left out: commands in `cli/`, dataset kinds in
    `eval/datasets/` (`jsonl:`, `pddl:` …).
    """
    allowed = {"__init__", "__main__", "base", "validate", "grammar", "config"}
    seen: dict[str, list[str]] = {}
    for mod, path in modules().items():
        if path.name == "__init__.py" or mod.startswith(("reasonlab.cli.", "reasonlab.eval.datasets.")):
            continue
        seen.setdefault(mod.rpartition(".")[2], []).append(mod)
    clashes = {k: v for k, v in seen.items() if len(v) > 1 and k not in allowed}
    assert not clashes, clashes


MODEL_METHODS = {"generate", "generate_stream", "logprobs"}
MAY_CALL_THE_MODEL = ("reasonlab.models", "reasonlab.context", "reasonlab.server.gate")


def test_every_model_call_goes_through_the_run_context():
    """Outside the model layer itself, `x.generate(...)` / `x.logprobs(...)` only on a RunContext."""
    bad = []
    for mod, path in modules().items():
        if mod.startswith(MAY_CALL_THE_MODEL):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in MODEL_METHODS:
                owner = ast.unparse(node.func.value)
                if owner.split(".")[-1] not in ("ctx", "context", "bw"):  # bw.generate: Blocksworld instances
                    bad.append(f"{mod}:{node.lineno}: {owner}.{node.func.attr}(...)")
    assert not bad, "model calls outside RunContext:\n" + "\n".join(bad)
