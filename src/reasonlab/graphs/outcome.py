"""What a graph/flowchart run produces: per-node records, the run's outcome, and node failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ReasonlabError


class NodeFailed(ReasonlabError):
    """A node could not be executed (model error, bad expression, tool failure, budget)."""

    def __init__(self, node: str, message: str, kind: str = "failed") -> None:
        self.node, self.kind = node, kind
        super().__init__(message)


@dataclass
class NodeRun:
    """What happened at one node: its answer, the model's text, timings and calls."""

    id: str
    kind: str
    status: str = "pending"  # pending | running | done | error | skipped
    answer: Any = None
    raw: str | None = None
    prompt: str | None = None  # the full message sent (facts and instruction included)
    asked: str | None = None  # the node's own question, rendered
    started: float | None = None  # seconds since the run started
    ended: float | None = None
    runs: int = 0  # how many times it ran (loop bodies, flowchart loops)
    iterations: int | None = None  # loop nodes: rounds done
    exhausted: bool = False  # loop nodes: stopped by `max`, not by the exit condition
    error: str | None = None
    note: str | None = None
    parent: str | None = None  # the loop / parallel step this node sits in
    calls: list[int] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return None if self.started is None or self.ended is None else self.ended - self.started

    def end_loop(self, rounds: int, exited: bool, maximum: int, on_max: str) -> None:
        """Record how a loop at this node ended; reaching `maximum` fails it when on_max is "error"."""
        self.iterations, self.exhausted = rounds, not exited
        if exited:
            return
        if on_max == "error":
            raise NodeFailed(self.id, f"loop {self.id!r} reached its maximum of {maximum} rounds without its "
                                      "exit condition holding", "loop_max")
        self.note = f"stopped after the maximum of {maximum} rounds"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "answer": self.answer, "raw": self.raw,
            "prompt": self.prompt, "asked": self.asked, "started": self.started, "ended": self.ended, "seconds": self.seconds,
            "runs": self.runs, "iterations": self.iterations, "exhausted": self.exhausted, "error": self.error,
            "note": self.note, "parent": self.parent, "calls": self.calls, "history": self.history,
        }


@dataclass
class GraphRun:
    """The outcome of running a graph or flowchart; partial results are kept on error."""

    kind: str
    name: str
    status: str  # "ok" | "error"
    answer: Any
    nodes: dict[str, NodeRun]
    inputs: dict[str, Any]
    state: dict[str, Any]
    steps: int
    max_steps: int
    seconds: float
    error: str | None = None
    failed_node: str | None = None
    output_node: str | None = None  # the node whose answer is the answer
    path: list[str] = field(default_factory=list)  # flowcharts: steps in the order they ran
    events: list[tuple[str, str]] = field(default_factory=list)  # ("start"|"end", node) in order
    structure: dict[str, Any] = field(default_factory=dict)

    @property
    def answers(self) -> dict[str, Any]:
        return {k: n.answer for k, n in self.nodes.items() if n.status == "done"}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "status": self.status, "answer": self.answer,
            "error": self.error, "failed_node": self.failed_node, "output_node": self.output_node, "inputs": self.inputs, "state": self.state,
            "steps": self.steps, "max_steps": self.max_steps, "seconds": self.seconds, "path": self.path,
            "nodes": [n.to_dict() for n in self.nodes.values()], "events": [list(e) for e in self.events],
            "edges": self.structure.get("edges", []), "structure": self.structure,
        }
