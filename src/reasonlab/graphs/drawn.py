"""Graphs and flowcharts drawn by a model: find the JSON in its reply, map common variations onto the
file format, and validate. Every failure is a `DrawnError` whose message is fed back for repair."""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

from ..errors import InputError
from .loading import from_dict
from .spec import ANSWER_KINDS, Flowchart, Graph, GraphError
from .structure import structure
from .templates import escape
from .validate import check
from .yaml_reader import read_yaml

_FENCE = re.compile(r"```(?:json|yaml|yml|JSON)?\s*\n(.*?)```", re.DOTALL)
_ID_CHARS = re.compile(r"[^A-Za-z0-9_]")


class DrawnError(InputError):
    """A model-drawn graph that cannot be used; the message says why (and is shown to the model).

    `issues` lists the problems as {"node", "message"} (node None when no single node is at fault);
    `drawing` is what the model drew as {"kind", "nodes", "edges"} (None when no graph could be read),
    each node marked "status": "invalid" with its "error", or "status": "pending".
    """

    def __init__(self, message: str, *, issues: list[dict[str, Any]] | None = None,
                 drawing: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.issues = issues if issues is not None else [{"node": None, "message": message}]
        self.drawing = drawing


def _balance(text: str) -> str:
    """Drop closing brackets that close nothing and close what was left open (a reply cut off by
    its token limit, or one `}` too many)."""
    out: list[str] = []
    stack: list[str] = []
    in_str = esc = False
    for ch in text:
        if in_str:
            out.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack[-1] != ch:
                continue  # unmatched: drop it
            stack.pop()
        out.append(ch)
    if in_str:
        out.append('"')
    fixed = "".join(out).rstrip().rstrip(",")
    return fixed + "".join(reversed(stack))


def _lenient(blob: str) -> Any:
    """Parse almost-JSON: trailing commas, // comments, single quotes, unquoted keys (via YAML),
    unbalanced or missing closing brackets."""
    fixed = re.sub(r"//[^\n]*", "", blob)
    fixed = re.sub(r",\s*([}\]])", r"\1", fixed)
    balanced = re.sub(r",\s*([}\]])", r"\1", _balance(fixed))
    for candidate in (fixed, fixed.replace("'", '"') if '"' not in fixed else None, balanced):
        if candidate is None:
            continue
        try:
            return json.loads(candidate)
        except (ValueError, RecursionError):
            pass
    for candidate in (fixed, balanced):
        try:  # the bounded reader: a reply is untrusted text (no alias bombs, no deep nesting)
            return read_yaml(candidate, "the reply")[0]
        except (GraphError, yaml.YAMLError, RecursionError):
            pass
    return None


def extract_json(text: str, keys: tuple[str, ...] = ("nodes", "steps")) -> Any:
    """The JSON object in a model's reply (code fences, surrounding prose and small syntax slips
    tolerated). Prefers an object holding one of `keys`; a bare list becomes {keys[0]: list}."""
    if not text or not text.strip():
        raise DrawnError("the reply was empty; expected a JSON object")
    candidates: list[Any] = []
    blobs = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    dec = json.JSONDecoder()

    def wanted(c: Any) -> bool:
        return isinstance(c, dict) and any(k in c for k in (*keys, *_LIST_KEYS))

    for blob in blobs:
        for m in re.finditer(r"[{\[]", blob):
            try:
                obj, _end = dec.raw_decode(blob, m.start())
            except (ValueError, RecursionError):
                continue
            if isinstance(obj, (dict, list)) and obj:
                candidates.append(obj)
        if not any(wanted(c) for c in candidates):  # the outer object may be almost-JSON
            start = min((i for i in (blob.find("{"), blob.find("[")) if i >= 0), default=-1)
            end = max(blob.rfind("}"), blob.rfind("]"))
            spans = ([blob[start:]] if start >= 0 else []) + ([blob[start:end + 1]] if 0 <= start < end else [])
            for span in spans:  # everything (a reply cut off mid-way), else up to the last bracket
                obj = _lenient(span)
                if isinstance(obj, (dict, list)) and obj and (wanted(obj) or span is spans[-1]):
                    candidates.insert(0, obj)
                    break
        if any(wanted(c) for c in candidates):
            break
    for c in candidates:
        if isinstance(c, dict) and any(k in c for k in (*keys, *_LIST_KEYS)):
            return c
    for c in candidates:
        if isinstance(c, list) and all(isinstance(x, dict) for x in c):
            return {keys[0]: c}
    if candidates and isinstance(candidates[0], dict):
        return candidates[0]
    raise DrawnError(f"no JSON object with {' or '.join(repr(k) for k in keys)} found in the reply")


_LIST_KEYS = ("nodes", "steps", "subquestions", "sub_questions", "questions", "graph")
_ASK_KEYS = ("ask", "question", "q", "subquestion", "sub_question", "text", "prompt", "task")
_DEP_KEYS = ("after", "depends_on", "dependencies", "deps", "parents", "requires", "inputs", "uses")
_OUT_KEYS = ("output", "final", "final_node", "answer_node", "answer", "result")


_RESERVED = ("question", "facts", "current", "iteration", "end")


def _sid(raw: Any, i: int) -> str:
    s = _ID_CHARS.sub("_", str(raw).strip()) if raw not in (None, "") else f"n{i + 1}"
    if not s or s[0].isdigit():
        s = f"n{s}"
    return f"{s}_node" if s in _RESERVED else s


def normalize_graph(data: Any, answer_kind: str = "text", node_tokens: int | None = None) -> dict[str, Any]:
    """Map a model's decomposition (many spellings) onto the graph file format.

    Each node asks its sub-question with the main question and the answers it depends on.
    """
    if not isinstance(data, dict):
        raise DrawnError("expected a JSON object with a 'nodes' list")
    raw_nodes = next((data[k] for k in _LIST_KEYS if isinstance(data.get(k), list)), None)
    if isinstance(raw_nodes, dict) or raw_nodes is None:
        raise DrawnError("the JSON object has no 'nodes' list")
    if not raw_nodes:
        raise DrawnError("the 'nodes' list is empty: give at least one sub-question")
    ids: dict[str, str] = {}
    items: list[tuple[str, str, Any]] = []
    for i, item in enumerate(raw_nodes):
        if isinstance(item, str):
            item = {"ask": item}
        if not isinstance(item, dict):
            raise DrawnError(f"node {i + 1} is not an object with 'id' and 'ask'")
        raw_id = item.get("id", item.get("name", item.get("key")))
        nid = _sid(raw_id, i)
        ids[str(raw_id) if raw_id is not None else nid] = nid
        ids.setdefault(str(i + 1), nid)  # "after": [1] meaning the first node
        q = next((item[k] for k in _ASK_KEYS if isinstance(item.get(k), str) and item[k].strip()), None)
        if q is None:
            raise DrawnError(f"node {nid!r} has no 'ask' (its sub-question)")
        deps = next((item[k] for k in _DEP_KEYS if k in item), [])
        items.append((nid, q.strip(), deps))
    out_raw = next((data[k] for k in _OUT_KEYS if isinstance(data.get(k), (str, int))), None)
    output = ids.get(str(out_raw)) if out_raw is not None else None  # not a node id (an answer?): ignored
    after: dict[str, list[str]] = {}
    for nid, _q, deps in items:
        dep_list = deps if isinstance(deps, list) else ([deps] if deps not in (None, "") else [])
        after[nid] = [ids.get(str(d), _sid(d, 0)) for d in dep_list]
    order = [nid for nid, _q, _d in items]
    if len(order) > 1 and not any(after.values()):
        # No dependencies at all: read the list as a chain, each sub-question after the one before.
        for prev, nid in zip(order, order[1:], strict=False):
            after[nid] = [prev]
    if output is None and len(order) > 1:
        # Loose ends feed the last node (it answers the whole question), unless that would loop.
        last = order[-1]
        used = {d for ds in after.values() for d in ds}
        for nid in order[:-1]:
            if nid not in used and last not in _upstream(nid, after):
                after[last].append(nid)
    nodes = []
    final = output or order[-1]
    for nid, q, _deps in items:
        facts = "{facts}\n\n" if after[nid] else ""
        node: dict[str, Any] = {
            "id": nid, "label": q, "after": after[nid],
            "ask": f"Main question: {{question}}\n\n{facts}Answer this sub-question: {escape(q)}",
            "answer": answer_kind if nid == final else "text",
        }
        if node_tokens:
            node["max_tokens"] = node_tokens
        nodes.append(node)
    spec: dict[str, Any] = {"kind": "graph", "inputs": {"question": {"type": "str"}}, "nodes": nodes}
    if output:
        spec["output"] = output
    return spec


def _upstream(nid: str, after: dict[str, list[str]]) -> set[str]:
    seen, todo = set(), [nid]
    while todo:
        for d in after.get(todo.pop(), []):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def normalize_flow(data: Any, node_tokens: int | None = None) -> dict[str, Any]:
    """Map a model's flowchart onto the file format: state keys it writes are declared for it."""
    if not isinstance(data, dict):
        raise DrawnError("expected a JSON object with a 'steps' list")
    steps = next((data[k] for k in ("steps", "nodes", "flowchart") if isinstance(data.get(k), list)), None)
    if not steps:
        raise DrawnError("the JSON object has no non-empty 'steps' list")
    state: dict[str, Any] = {}
    if isinstance(data.get("state"), dict):
        for k, v in data["state"].items():
            state[_sid(k, 0)] = v if isinstance(v, (dict, str)) and (not isinstance(v, str) or v in (
                "str", "int", "float", "number", "bool", "list", "dict", "any")) else "any"

    def fix(step: Any, i: int) -> Any:
        if not isinstance(step, dict):
            raise DrawnError(f"step {i + 1} is not an object")
        s = dict(step)
        s["id"] = _sid(s.get("id"), i)
        for k in ("question", "q", "prompt"):
            if k in s and "ask" not in s:
                s["ask"] = s.pop(k)
        if "answer" in s and s["answer"] not in ANSWER_KINDS:
            s.pop("answer")  # a model that wrote its answer where the answer kind goes
        if "set" in s:
            s["set"] = _sid(s["set"], 0)
            state.setdefault(s["set"], "any")
        elif "ask" in s or "tool" in s:
            s["set"] = s["id"] + "_answer"
            state.setdefault(s["set"], "any")
        if isinstance(s.get("compute"), dict):
            s["compute"] = {_sid(k, 0): str(v) for k, v in s["compute"].items()}
            for k in s["compute"]:
                state.setdefault(k, "any")
        if "ask" in s and node_tokens and "max_tokens" not in s:
            s["max_tokens"] = node_tokens
        if isinstance(s.get("loop"), dict) and isinstance(s["loop"].get("body"), list):
            s["loop"] = {**s["loop"], "body": [fix(b, j) for j, b in enumerate(s["loop"]["body"])]}
        if isinstance(s.get("parallel"), list):
            s["parallel"] = [[fix(b, j) for j, b in enumerate(arm)] if isinstance(arm, list) else arm
                             for arm in s["parallel"]]
        for k in ("next", "then", "else"):
            if k in s and s[k] is not None:
                s[k] = _sid(s[k], 0)
        return s

    fixed = [fix(s, i) for i, s in enumerate(steps)]
    state.pop("question", None)
    return {"kind": "flowchart", "inputs": {"question": {"type": "str"}}, "state": state, "steps": fixed}


def spec_from_reply(text: str, mode: str, *, answer_kind: str = "text", max_nodes: int = 12,
                    node_tokens: int | None = None) -> tuple[Graph | Flowchart, dict[str, Any]]:
    """Parse, normalise and validate a model's graph ("graph") or flowchart ("flow") reply.

    Returns (spec, the normalised data); raises DrawnError with a message fit to show the model.
    """
    data = extract_json(text, ("nodes",) if mode == "graph" else ("steps",))
    norm = normalize_graph(data, answer_kind, node_tokens) if mode == "graph" else normalize_flow(data, node_tokens)
    try:
        spec = from_dict(norm, source="plan")
    except GraphError as e:
        issues = _issues(e)
        raise DrawnError(_describe(e), issues=issues, drawing=_loose_drawing(norm, issues)) from None
    count = len(spec.walk())
    if count > max_nodes:
        msg = f"too many nodes ({count}; at most {max_nodes}): merge some sub-questions"
        raise DrawnError(msg, drawing=_drawing(spec, []))
    try:
        check(spec)
    except GraphError as e:
        issues = _issues(e)
        raise DrawnError(_describe(e), issues=issues, drawing=_drawing(spec, issues)) from None
    return spec, norm


def _describe(e: GraphError) -> str:
    """The problems without file/line decoration (the model never saw a file)."""
    issues = getattr(e, "issues", None)
    if issues:
        return "; ".join(i.render() for i in issues[:5]) + (" …" if len(issues) > 5 else "")
    return f"node {e.node!r}: {e.detail}" if e.node else e.detail


def _issues(e: GraphError) -> list[dict[str, Any]]:
    found = getattr(e, "issues", None)
    if found:
        return [{"node": i.node, "message": i.message} for i in found]
    return [{"node": e.node, "message": e.detail}]


def _mark(nodes: list[dict[str, Any]], issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each node with "status" invalid (and its validator messages as "error") or pending."""
    for n in nodes:
        mine = [i["message"] for i in issues if i["node"] == n["id"]]
        n.update(status="invalid" if mine else "pending", error="; ".join(mine) or None)
    return nodes


def _drawing(spec: Graph | Flowchart, issues: list[dict[str, Any]]) -> dict[str, Any]:
    s = structure(spec)
    return {"kind": s["kind"], "nodes": _mark(s["nodes"], issues), "edges": s["edges"]}


def _loose_drawing(norm: dict[str, Any], issues: list[dict[str, Any]]) -> dict[str, Any]:
    """Nodes and edges straight from normalised data that failed the schema (a best effort)."""
    is_graph = norm.get("kind") == "graph"
    raw = [x for x in norm.get("nodes" if is_graph else "steps") or [] if isinstance(x, dict)]
    nodes = [{"id": str(x.get("id")), "kind": next((k for k in ("ask", "compute", "tool", "branch", "loop",
                                                                   "parallel", "output") if k in x), "ask"),
              "title": str(x.get("label") or x.get("ask") or x.get("compute") or x.get("branch") or
                           x.get("output") or x.get("id")), "parent": None} for x in raw]
    ids = [n["id"] for n in nodes]
    edges: list[dict[str, str]] = []
    for i, x in enumerate(raw):
        if is_graph:
            edges += [{"from": str(d), "to": ids[i], "label": ""} for d in x.get("after") or [] if str(d) in ids]
            continue
        targets = [("yes", x.get("then")), ("no", x.get("else"))] if "branch" in x else \
            [("", x.get("next") or (ids[i + 1] if i + 1 < len(ids) else None))] if "output" not in x else []
        edges += [{"from": ids[i], "to": str(t), "label": lab} for lab, t in targets if str(t) in ids]
    return {"kind": norm.get("kind", "graph"), "nodes": _mark(nodes, issues), "edges": edges}
