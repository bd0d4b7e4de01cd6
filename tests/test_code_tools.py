"""Built-in tools: calculator (parsed, never eval'd), dates, units, the python sandbox tool, user tools."""

from __future__ import annotations

import pytest

from reasonlab.tools import ToolError, call_tool, get_tool, list_tools, tool, unregister_tool
from reasonlab.tools.calculator import evaluate


@pytest.mark.parametrize("expr,value", [
    ("(12 + 8) * 3 / 4", "15"), ("0.1 + 0.2", "0.3"), ("2^10", "1024"), ("2 ** -2", "0.25"),
    ("1,200 * 3", "3600"), ("10 / 4", "2.5"), ("7 // 2", "3"), ("7 % 3", "1"), ("20% of 50", "10"),
    ("-(3 - 5)", "2"), ("3 × 4 =", "12"), ("sqrt(16)", "4"), ("round(2.567, 2)", "2.57"),
    ("factorial(5)", "120"), ("max(3, 9, 4)", "9"), ("10 / 3", "3.33333333333"), ("comb(5, 2)", "10"),
])
def test_calculator_values(expr, value):
    assert evaluate(expr) == value


@pytest.mark.parametrize("expr", [
    "__import__('os').system('id')", "open('/etc/passwd')", "().__class__", "x + 1", "'a' * 3",
    "9 ** 9 ** 9", "factorial(100000)", "1 / 0", "lambda: 1", "[1, 2]", "", "(-8) ** (1/3)",
])
def test_calculator_refuses(expr):
    with pytest.raises(ToolError):
        evaluate(expr)


def test_calculator_never_uses_eval(monkeypatch):
    import builtins

    def boom(*a, **k):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    assert evaluate("6 * 7") == "42"


def test_dates():
    assert call_tool("date_add", {"date": "2024-01-31", "months": 1}) == "2024-02-29 (Thursday)"
    assert call_tool("date_add", {"date": "March 1, 2024", "days": -1}).startswith("2024-02-29")
    assert call_tool("date_diff", {"start": "2024-01-01", "end": "2024-12-25"}) == "359"
    assert call_tool("date_diff", {"start": "2020-05-10", "end": "2024-05-09", "unit": "years"}) == "3"
    assert call_tool("date_diff", {"start": "2024-03-15", "end": "2024-01-20", "unit": "months"}) == "-1"
    assert call_tool("weekday", {"date": "2024-07-04"}) == "Thursday"
    with pytest.raises(ToolError):
        call_tool("weekday", {"date": "the day after tomorrow"})


def test_units():
    assert call_tool("convert_units", {"value": 5, "from_unit": "km", "to_unit": "m"}) == "5000"
    assert call_tool("convert_units", {"value": 1, "from_unit": "mile", "to_unit": "km"}) == "1.609344"
    assert call_tool("convert_units", {"value": 100, "from_unit": "C", "to_unit": "F"}) == "212"
    assert call_tool("convert_units", {"value": 2, "from_unit": "hours", "to_unit": "min"}) == "120"
    assert call_tool("convert_units", {"value": 1, "from_unit": "GiB", "to_unit": "MiB"}) == "1024"
    with pytest.raises(ToolError, match="cannot convert"):
        call_tool("convert_units", {"value": 1, "from_unit": "kg", "to_unit": "m"})
    with pytest.raises(ToolError, match="unknown unit"):
        call_tool("convert_units", {"value": 1, "from_unit": "furlongs", "to_unit": "m"})


def test_builtin_tools_registered_with_schemas():
    tools = list_tools()
    for name in ("calculator", "python", "date_add", "date_diff", "weekday", "convert_units"):
        assert name in tools
    schema = get_tool("convert_units").schema()
    assert schema["function"]["parameters"]["properties"]["value"]["type"] == "number"
    assert schema["function"]["parameters"]["required"] == ["value", "from_unit", "to_unit"]


def test_user_tool_by_decorator():
    @tool
    def shout(text: str, times: int = 1) -> str:
        """Upper-case text, repeated."""
        return " ".join([text.upper()] * times)

    try:
        assert call_tool("shout", {"text": "hi", "times": 2}) == "HI HI"
        assert get_tool("shout").schema()["function"]["description"] == "Upper-case text, repeated."
        with pytest.raises(ToolError, match="unknown argument"):
            call_tool("shout", {"txt": "x"})
    finally:
        unregister_tool("shout")


@pytest.mark.sandbox
def test_python_tool_runs_in_sandbox():
    from reasonlab.sandbox import detect

    if detect().backend == "none":
        pytest.skip("no sandbox")
    assert call_tool("python", {"code": "print(sum(range(101)))"}) == "5050"
    out = call_tool("python", {"code": "print(open('/etc/passwd').read())"})
    assert "root:" not in out and "FileNotFoundError" in out
    assert "printed nothing" in call_tool("python", {"code": "x = 1"})
