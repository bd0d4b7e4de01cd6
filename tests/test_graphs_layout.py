"""The layout of reasonlab.graphs stays as designed: no import cycle (lazy imports count), nothing
imported from a higher layer, no private name imported across files, modules of a readable size,
the model reached only through RunContext."""

import ast
from pathlib import Path

import reasonlab.graphs

GRAPHS = Path(reasonlab.graphs.__file__).parent
HIGHER = ("strategies", "api", "eval", "cli", "server", "web")


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names) for every import in the file, function-level ones included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            out.append((base, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def _edges() -> dict[str, set[str]]:
    mods = {p.stem for p in GRAPHS.glob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in mods}
    for p in GRAPHS.glob("*.py"):
        for mod, names in _imports(p):
            if mod.startswith(".") and not mod.startswith(".."):
                target = mod.lstrip(".").split(".")[0]
                edges[p.stem] |= {target} if target else {n for n in names if n in mods}
    return edges


def test_no_import_cycle_in_graphs():
    edges = _edges()
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(edges.get(m, ())):
            if t == "__init__" or t not in edges:
                continue
            assert state.get(t) != 1, "import cycle: " + " → ".join([*stack, m, t])
            if not state.get(t):
                visit(t, [*stack, m])
        state[m] = 2

    for m in sorted(edges):
        if m != "__init__" and not state.get(m):
            visit(m, [])


def test_no_higher_layer_and_no_private_imports():
    for p in GRAPHS.glob("*.py"):
        for mod, names in _imports(p):
            if mod.startswith(".."):
                assert mod[2:].split(".")[0] not in HIGHER, f"{p.name} imports {mod}"
            if mod.startswith("reasonlab."):
                assert mod.split(".")[1] not in HIGHER, f"{p.name} imports {mod}"
            private = [n for n in names if n.startswith("_") and n != "__future__"]
            assert not private, f"{p.name} imports private {private} from {mod}"


def test_module_sizes():
    for p in GRAPHS.glob("*.py"):
        lines = len(p.read_text().splitlines())
        assert lines <= 400, f"{p.name} has {lines} lines"


def test_model_only_through_run_context():
    for p in [*GRAPHS.glob("*.py")]:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("generate", "logprobs", "chat"):
                owner = node.value
                assert isinstance(owner, ast.Attribute) and owner.attr == "ctx" or \
                    isinstance(owner, ast.Name) and owner.id == "ctx", f"{p.name}:{node.lineno} calls .{node.attr}"


def test_schema_module_holds_types_only():
    tree = ast.parse((GRAPHS / "spec.py").read_text())
    imported = {m for m, _ in _imports(GRAPHS / "spec.py")}
    assert imported <= {"__future__", "dataclasses", "typing", "..errors"}, imported
    assert not [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert not hasattr(reasonlab.graphs.Graph, "run") and callable(reasonlab.graphs.run)
