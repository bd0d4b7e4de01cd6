"""Tools ("function ends") the model can call: a registry of typed Python functions.

    from reasonlab.tools import tool

    @tool
    def add(a: float, b: float) -> float:
        "Add two numbers."
        return a + b

Flowchart `tool` steps and the `react` strategy call tools by name through `call_tool`.
"""

from .registry import Tool, ToolError, call_tool, get_tool, list_tools, tool, unregister_tool

__all__ = ["Tool", "ToolError", "call_tool", "get_tool", "list_tools", "tool", "unregister_tool"]
