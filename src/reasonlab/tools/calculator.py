"""calculator: arithmetic by parsing the expression with `ast` and walking it — never `eval`.

Exact rational arithmetic for + - * / // % ** on integers and decimals (so 0.1 + 0.2 is 0.3);
floats only where a function needs them (sqrt, log, sin…). `^` means power, `×`/`÷` work,
thousands separators ("1,200") are accepted. Exponents and factorials are bounded so a
hostile expression cannot exhaust memory.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from fractions import Fraction

from .registry import ToolError, tool

Number = Fraction | float

MAX_EXPONENT = 10_000
MAX_DIGITS = 5_000
MAX_FACTORIAL = 1_000
MAX_LENGTH = 2_000

_BINOPS: dict[type, Callable[[Number, Number], Number]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}


def _float_fn(f: Callable[..., float]) -> Callable[..., Number]:
    return lambda *a: f(*(float(x) for x in a))


def _factorial(x: Number) -> Number:
    if x != int(x) or x < 0:
        raise ToolError("factorial needs a non-negative integer")
    if x > MAX_FACTORIAL:
        raise ToolError(f"factorial argument above {MAX_FACTORIAL}")
    return Fraction(math.factorial(int(x)))


def _small(x: Number) -> int:
    if x != int(x) or abs(x) > MAX_FACTORIAL:
        raise ToolError(f"expected an integer up to {MAX_FACTORIAL}")
    return int(x)


def _round(x: Number, nd: Number = 0) -> Number:
    q = Fraction(x) if not isinstance(x, Fraction) else x
    r = round(q, int(nd))
    return Fraction(r)


FUNCTIONS: dict[str, Callable[..., Number]] = {
    "sqrt": _float_fn(math.sqrt), "exp": _float_fn(math.exp), "ln": _float_fn(math.log),
    "log": _float_fn(math.log), "log10": _float_fn(math.log10), "log2": _float_fn(math.log2),
    "sin": _float_fn(math.sin), "cos": _float_fn(math.cos), "tan": _float_fn(math.tan),
    "asin": _float_fn(math.asin), "acos": _float_fn(math.acos), "atan": _float_fn(math.atan),
    "abs": lambda x: abs(x), "round": _round, "floor": lambda x: Fraction(math.floor(x)),
    "ceil": lambda x: Fraction(math.ceil(x)), "min": lambda *a: min(a), "max": lambda *a: max(a),
    "factorial": _factorial, "gcd": lambda a, b: Fraction(math.gcd(int(a), int(b))),
    "comb": lambda n, k: Fraction(math.comb(_small(n), _small(k))),
    "perm": lambda n, k: Fraction(math.perm(_small(n), _small(k))),
}
CONSTANTS: dict[str, Number] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _power(a: Number, b: Number) -> Number:
    if isinstance(b, Fraction) and b.denominator == 1 and isinstance(a, Fraction):
        if abs(b) > MAX_EXPONENT:
            raise ToolError(f"exponent above {MAX_EXPONENT}")
        if a.numerator and abs(b) * math.log10(max(abs(a.numerator), abs(a.denominator), 2)) > MAX_DIGITS:
            raise ToolError("result too large")
        return a ** int(b)
    out = float(a) ** float(b)
    if isinstance(out, complex):
        raise ToolError("the result is not a real number")
    return out


def _eval(node: ast.AST) -> Number:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ToolError(f"not a number: {node.value!r}")
        return Fraction(str(node.value)) if isinstance(node.value, float) else Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, (ast.Pow, ast.BitXor)):
            return _power(left, right)
        op = _BINOPS.get(type(node.op))
        if op is None:
            raise ToolError(f"operator {type(node.op).__name__} is not supported")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ToolError("division by zero")
        return op(left, right)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ToolError(f"unknown name {node.id!r}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        fn = FUNCTIONS.get(node.func.id)
        if fn is None:
            raise ToolError(f"unknown function {node.func.id!r} (known: {', '.join(sorted(FUNCTIONS))})")
        try:
            return fn(*(_eval(a) for a in node.args))
        except (ValueError, TypeError, OverflowError) as e:
            raise ToolError(f"{node.func.id}: {e}") from None
    raise ToolError(f"unsupported expression element: {type(node).__name__}")


def _prepare(expression: str) -> str:
    text = expression.strip().rstrip("=").strip()
    text = text.replace("×", "*").replace("÷", "/").replace("−", "-").replace("–", "-")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,200 -> 1200
    text = re.sub(r"(\d+(?:\.\d+)?)\s*%", r"(\1/100)", text) if re.search(r"\d\s*%\s*(?:of|$|\))", text) else text
    text = text.replace(" of ", " * ")
    return text


def format_value(value: Number) -> str:
    """Integers plainly; exact fractions as terminating decimals when they are, else a float rounded to 12 digits."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        from ..answers.normalize import format_number

        text = format_number(value)
        if "/" not in text:
            return text
        value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def evaluate(expression: str) -> str:
    """The value of an arithmetic expression as text; ToolError for anything else."""
    if not isinstance(expression, str) or not expression.strip():
        raise ToolError("empty expression")
    if len(expression) > MAX_LENGTH:
        raise ToolError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(_prepare(expression), mode="eval")
    except SyntaxError:
        raise ToolError(f"not an arithmetic expression: {expression!r}") from None
    try:
        return format_value(_eval(tree))
    except ZeroDivisionError:
        raise ToolError("division by zero") from None
    except OverflowError:
        raise ToolError("result too large") from None


@tool(name="calculator")
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. "(12 + 8) * 3 / 4" or "sqrt(2) ^ 2". Supports + - * / // % ^ and sqrt, log, exp, sin, cos, round, floor, ceil, min, max, factorial."""
    return evaluate(expression)
