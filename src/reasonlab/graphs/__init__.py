"""Reasoning graphs and flowcharts: author them in Python or YAML/JSON, validate, run, draw.

    from reasonlab.graphs import Graph
    g = Graph().input("question")
    g.ask("facts", "List the numbers given in: {question}")
    g.ask("answer", "Using these numbers, answer: {question}\\n{facts}", answer="number")
    run = g.run("smollm2", question="...")      # -> GraphRun (answer, per-node answers, timings)

Files: `load("examples/multi_hop.yaml")`, then `run_spec(spec, model, inputs)`.
"""

from .executor import Executor, GraphRun, NodeFailed, NodeRun, bind_inputs, run_spec, structure
from .expr import ExprError, evaluate
from .spec import Cond, Flowchart, Graph, Loop, Node, Spec, SpecError, Step, Var, from_dict, load, loads
from .validate import Issue, ValidationError, check, validate

__all__ = [
    "Cond", "Executor", "ExprError", "Flowchart", "Graph", "GraphRun", "Issue", "Loop", "Node", "NodeFailed",
    "NodeRun", "Spec", "SpecError", "Step", "ValidationError", "Var", "bind_inputs", "check", "evaluate",
    "from_dict", "load", "loads", "run_spec", "structure", "validate",
]
