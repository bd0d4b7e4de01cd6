"""Reasoning graphs and flowcharts: author them in Python or YAML/JSON, validate, run, draw.

    from reasonlab import graphs
    g = graphs.Graph().input("question")
    g.ask("facts", "List the numbers given in: {question}")
    g.ask("answer", "Using these numbers, answer: {question}\\n{facts}", answer="number")
    result = graphs.run(g, "smollm2", question="...")   # -> GraphRun (answer, per-node answers, timings)

Files: `graphs.run("examples/multi_hop.yaml", "smollm2")`, or `load(path)` then `run(spec, model)`.
Layout: spec (types) · loading, file_schema, yaml_reader (files) · templates, values, refs (helpers) ·
validate · executor → graph_runner / flowchart over bookkeeping + steps · structure, mermaid,
drawing (pictures) · drawn, grammar (graphs a model draws).
"""

from .executor import Executor, bind_inputs, run, run_spec
from .expr import ExprError, evaluate
from .loading import from_dict, load, loads
from .outcome import GraphRun, NodeFailed, NodeRun
from .spec import Cond, Flowchart, Graph, GraphError, Loop, Node, Spec, Step, Var
from .structure import structure
from .validate import Issue, ValidationError, check, validate

__all__ = [
    "Cond", "Executor", "ExprError", "Flowchart", "Graph", "GraphError", "GraphRun", "Issue", "Loop", "Node",
    "NodeFailed", "NodeRun", "Spec", "Step", "ValidationError", "Var", "bind_inputs", "check", "evaluate",
    "from_dict", "load", "loads", "run", "run_spec", "structure", "validate",
]
