"""A safe expression language over a state dict, for `compute` steps, branch conditions and loop exits.

Python expression syntax, evaluated by walking the `ast` with a whitelist of node types: literals,
names (looked up in the state), arithmetic, comparisons, boolean logic, `x if c else y`,
indexing/slicing, list/tuple/dict literals, and calls to a fixed set of pure functions. There is
no attribute access, no comprehension, no lambda, no assignment and no `eval`/`exec`: model-written
expressions cannot reach Python objects. Sizes are bounded (exponents, repeated sequences, text).
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from ..answers.normalize import parse_number
from ..errors import InputError
from .values import is_yes


class ExprError(InputError):
    """An expression that cannot be parsed, refers to unknown names, or fails to evaluate."""


MAX_LEN = 100_000  # longest string / list an expression may build
MAX_EXPONENT = 10_000
MAX_INT_BITS = 4096


def _number(x: Any) -> int | float:
    """The number in a value ("about 12 apples" → 12); raises when there is none."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, (int, float)):
        return x
    v = parse_number(str(x))
    if v is None:
        raise ExprError(f"number(): no number in {str(x)[:60]!r}")
    return int(v) if v.denominator == 1 else float(v)


def _contains(hay: Any, needle: Any) -> bool:
    if isinstance(hay, str):
        return str(needle).lower() in hay.lower()
    return needle in hay


def _round(x: Any, nd: int = 0) -> Any:
    return round(x, nd) if nd else round(x)


def _join(sep: Any, items: Any) -> str:
    return str(sep).join(str(i) for i in items)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len, "abs": abs, "min": min, "max": max, "sum": sum, "round": _round,
    "int": int, "float": float, "str": str, "bool": bool, "sorted": sorted, "any": any, "all": all,
    "count": lambda items, value: list(items).count(value),
    "number": _number, "yes": is_yes, "contains": _contains, "join": _join,
    "lower": lambda s: str(s).lower(), "upper": lambda s: str(s).upper(),
    "strip": lambda s: str(s).strip(), "split": lambda s, sep=None: str(s).split(sep),
    "replace": lambda s, a, b: str(s).replace(str(a), str(b)),
    "startswith": lambda s, p: str(s).startswith(str(p)), "endswith": lambda s, p: str(s).endswith(str(p)),
    "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt,
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_LITERALS = {"true": True, "false": False, "null": None, "none": None}
_ALLOWED = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.IfExp, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Call, ast.keyword,
    ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, *_BINOPS, *_CMPOPS,
)


@lru_cache(maxsize=4096)
def parse(source: str) -> ast.Expression:
    """Parse and check an expression; raises ExprError naming the first thing not allowed."""
    if not isinstance(source, str) or not source.strip():
        raise ExprError("empty expression")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        raise ExprError(f"invalid expression {source!r}: {e.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            what = type(node).__name__
            if isinstance(node, ast.Attribute):
                what = f"attribute access '.{node.attr}'"
            raise ExprError(f"expression {source!r}: {what} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else "this"
                raise ExprError(f"expression {source!r}: calling {name!r} is not allowed "
                                f"(functions: {', '.join(sorted(FUNCTIONS))})")
            if any(k.arg is None for k in node.keywords):
                raise ExprError(f"expression {source!r}: **kwargs is not allowed")
        if isinstance(node, ast.Starred):  # pragma: no cover - not in _ALLOWED anyway
            raise ExprError(f"expression {source!r}: *args is not allowed")
    return tree


def names(source: str) -> set[str]:
    """State names an expression reads (function names excluded)."""
    tree = parse(source)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called
            and n.id not in _LITERALS}


def _check_size(v: Any) -> Any:
    if isinstance(v, (str, list, tuple)) and len(v) > MAX_LEN:
        raise ExprError(f"expression result too large ({len(v)} items)")
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
        raise ExprError("expression result too large (integer)")
    return v


class _Eval:
    def __init__(self, env: Mapping[str, Any], source: str) -> None:
        self.env = env
        self.source = source

    def run(self, node: ast.AST) -> Any:
        m = getattr(self, f"_{type(node).__name__}", None)
        if m is None:  # parse() already rejected it; defensive
            raise ExprError(f"expression {self.source!r}: {type(node).__name__} is not allowed")
        return m(node)

    def _Expression(self, n: ast.Expression) -> Any:
        return self.run(n.body)

    def _Constant(self, n: ast.Constant) -> Any:
        if not isinstance(n.value, (int, float, str, bool, type(None))):
            raise ExprError(f"expression {self.source!r}: constant of type {type(n.value).__name__}")
        return n.value

    def _Name(self, n: ast.Name) -> Any:
        if n.id in self.env:
            return self.env[n.id]
        if n.id in _LITERALS:
            return _LITERALS[n.id]
        raise ExprError(f"expression {self.source!r}: unknown name {n.id!r}")

    def _BinOp(self, n: ast.BinOp) -> Any:
        a, b = self.run(n.left), self.run(n.right)
        op = type(n.op)
        if op is ast.Pow and isinstance(b, (int, float)) and abs(b) > MAX_EXPONENT:
            raise ExprError(f"expression {self.source!r}: exponent {b} too large")
        if op is ast.Mult:
            for seq, k in ((a, b), (b, a)):
                if isinstance(seq, (str, list, tuple)) and isinstance(k, int) and len(seq) * k > MAX_LEN:
                    raise ExprError(f"expression {self.source!r}: repeated sequence too large")
        if op is ast.Add and isinstance(a, (int, float)) and isinstance(b, str):
            a = str(a)  # "3" + 4 style mixes from model text: numbers meet strings as text
        try:
            return _check_size(_BINOPS[op](a, b))
        except ExprError:
            raise
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
            raise ExprError(f"expression {self.source!r}: {e}") from None

    def _UnaryOp(self, n: ast.UnaryOp) -> Any:
        v = self.run(n.operand)
        try:
            if isinstance(n.op, ast.Not):
                return not v
            return -v if isinstance(n.op, ast.USub) else +v
        except TypeError as e:
            raise ExprError(f"expression {self.source!r}: {e}") from None

    def _BoolOp(self, n: ast.BoolOp) -> Any:
        if isinstance(n.op, ast.And):
            v: Any = True
            for x in n.values:
                v = self.run(x)
                if not v:
                    return v
            return v
        v = False
        for x in n.values:
            v = self.run(x)
            if v:
                return v
        return v

    def _Compare(self, n: ast.Compare) -> bool:
        left = self.run(n.left)
        for op, right_node in zip(n.ops, n.comparators, strict=True):
            right = self.run(right_node)
            try:
                ok = _CMPOPS[type(op)](left, right)
            except TypeError as e:
                raise ExprError(f"expression {self.source!r}: {e}") from None
            if not ok:
                return False
            left = right
        return True

    def _IfExp(self, n: ast.IfExp) -> Any:
        return self.run(n.body) if self.run(n.test) else self.run(n.orelse)

    def _Subscript(self, n: ast.Subscript) -> Any:
        v = self.run(n.value)
        k = self.run(n.slice)
        if not isinstance(v, (str, list, tuple, dict)):
            raise ExprError(f"expression {self.source!r}: cannot index a {type(v).__name__}")
        try:
            return v[k]
        except (KeyError, IndexError, TypeError) as e:
            raise ExprError(f"expression {self.source!r}: bad index {k!r} ({type(e).__name__})") from None

    def _Slice(self, n: ast.Slice) -> slice:
        parts = [self.run(p) if p is not None else None for p in (n.lower, n.upper, n.step)]
        return slice(*parts)

    def _List(self, n: ast.List) -> list[Any]:
        return _check_size([self.run(e) for e in n.elts])

    def _Tuple(self, n: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self.run(e) for e in n.elts)

    def _Dict(self, n: ast.Dict) -> dict[Any, Any]:
        if any(k is None for k in n.keys):
            raise ExprError(f"expression {self.source!r}: ** in dict literals is not allowed")
        return {self.run(k): self.run(v) for k, v in zip(n.keys, n.values, strict=True)}  # type: ignore[arg-type]

    def _Call(self, n: ast.Call) -> Any:
        assert isinstance(n.func, ast.Name)
        fn = FUNCTIONS[n.func.id]
        args = [self.run(a) for a in n.args]
        kwargs = {k.arg: self.run(k.value) for k in n.keywords if k.arg}
        try:
            return _check_size(fn(*args, **kwargs))
        except ExprError:
            raise
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
            raise ExprError(f"expression {self.source!r}: {n.func.id}(): {e}") from None


def evaluate(source: str, env: Mapping[str, Any]) -> Any:
    """Value of `source` with names bound from `env`; raises ExprError on any problem."""
    return _Eval(env, source).run(parse(source))
