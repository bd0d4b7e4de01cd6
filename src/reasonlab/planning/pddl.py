"""PDDL in and out: load a domain + problem (unified-planning's reader), with errors that name
the file and line, and a STRIPS view of the task (actions, facts, objects) for rendering and
plan parsing.

A `Task` holds the PDDL *text* of a domain and a problem; it writes them to a private temporary
folder when a file-based tool (the validator, the planners) needs paths.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from ..errors import InputError


class PDDLError(InputError):
    """Malformed or unsupported PDDL; the message names the file and, when known, the line."""


@dataclass(frozen=True)
class Atom:
    """A ground fact or a fact schema: predicate name and arguments (objects or ?parameters)."""

    pred: str
    args: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"({' '.join((self.pred, *self.args))})"


@dataclass(frozen=True)
class Literal:
    atom: Atom
    positive: bool = True


@dataclass(frozen=True)
class GroundAction:
    """One step of a plan: an action name and its object arguments (PDDL names)."""

    name: str
    args: tuple[str, ...] = ()

    def pddl(self) -> str:
        return f"({' '.join((self.name, *self.args))})"

    @classmethod
    def read(cls, text: str) -> GroundAction:
        """'(unstack b a)' -> GroundAction('unstack', ('b', 'a'))."""
        name, *args = text.strip().strip("()").split()
        return cls(name, tuple(args))

    def __str__(self) -> str:
        return self.pddl()


@dataclass
class ActionSchema:
    """A STRIPS action: parameters, precondition literals, add and delete effects."""

    name: str
    params: list[str]
    pre: list[Literal] = field(default_factory=list)
    add: list[Atom] = field(default_factory=list)
    delete: list[Atom] = field(default_factory=list)


@dataclass
class StripsView:
    """What rendering and parsing need to know about a task."""

    domain_name: str
    problem_name: str
    predicates: dict[str, int]  # name -> arity
    actions: dict[str, ActionSchema]
    objects: list[str]
    init: list[Atom]
    goal: list[Literal]


def _read(path: str | Path, what: str) -> str:
    p = Path(path)
    if not p.is_file():
        raise PDDLError(f"{what} file not found: {p}")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise PDDLError(f"{p}: not a UTF-8 text file") from None


_SEMANTIC_LINE = re.compile(r"line:\s*(\d+)")
_DOMAIN_NAME = re.compile(r"\(\s*domain\s+([^\s()]+)", re.IGNORECASE)
_TMP_ROOT: list[Path] = []


def _tmp_root() -> Path:
    if not _TMP_ROOT:
        root = Path(tempfile.mkdtemp(prefix="reasonlab-pddl-"))
        atexit.register(shutil.rmtree, root, True)
        _TMP_ROOT.append(root)
    return _TMP_ROOT[0]


@dataclass
class Task:
    """A planning task: domain and problem PDDL text, plus where they came from (for messages)."""

    domain_text: str
    problem_text: str
    domain_label: str = "domain.pddl"
    problem_label: str = "problem.pddl"
    name: str = ""

    @classmethod
    def from_files(cls, domain: str | Path, problem: str | Path) -> Task:
        task = cls(_read(domain, "domain"), _read(problem, "problem"), str(domain), str(problem),
                   name=Path(problem).stem)
        task.up_problem  # noqa: B018 - parse now so errors surface at load time
        return task

    # -- files ---------------------------------------------------------------------------
    @cached_property
    def paths(self) -> tuple[str, str]:
        """(domain path, problem path) of private copies on disk, written once."""
        folder = Path(tempfile.mkdtemp(dir=_tmp_root()))
        d, p = folder / "domain.pddl", folder / "problem.pddl"
        d.write_text(self.domain_text, encoding="utf-8")
        p.write_text(self.problem_text, encoding="utf-8")
        return str(d), str(p)

    # -- parsing -------------------------------------------------------------------------
    @cached_property
    def up_problem(self) -> Any:
        """The unified-planning Problem; PDDLError (file and line) if the PDDL is malformed."""
        return parse_up(self.domain_text, self.problem_text, self.domain_label, self.problem_label)

    @cached_property
    def strips(self) -> StripsView:
        view = strips_view(self.up_problem, self.problem_label)
        m = _DOMAIN_NAME.search(self.domain_text)
        view.domain_name = m.group(1) if m else ""
        return view


def parse_up(domain_text: str, problem_text: str, domain_label: str = "domain.pddl",
             problem_label: str = "problem.pddl") -> Any:
    """Parse PDDL text with unified-planning; errors become PDDLError naming file and line."""
    if not domain_text.strip():
        raise PDDLError(f"{domain_label}: the domain file is empty")
    if not problem_text.strip():
        raise PDDLError(f"{problem_label}: the problem file is empty")
    return _parse_cached(domain_text, problem_text, domain_label, problem_label)


@lru_cache(maxsize=256)
def _parse_cached(domain_text: str, problem_text: str, domain_label: str, problem_label: str) -> Any:
    """Parsing is slow (pyparsing): each distinct task is parsed once per process (never mutated)."""
    from unified_planning.io import PDDLReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return PDDLReader().parse_problem_string(domain_text, problem_text)
        except Exception as e:  # noqa: BLE001 - the reader raises many kinds; all are user errors
            first = e
        try:  # blame the right file: does the domain parse on its own?
            PDDLReader().parse_problem_string(domain_text)
        except Exception as e:  # noqa: BLE001
            raise PDDLError(_explain(e, domain_label)) from None
        raise PDDLError(_explain(first, problem_label)) from None


def _explain(e: Exception, label: str) -> str:
    """'FILE:LINE: message' from a pyparsing error or the reader's semantic errors."""
    line = getattr(e, "lineno", None)
    msg = re.sub(r"\s*\(at char \d+\).*$", "", str(e).strip()) if line is not None else str(e).strip()
    if line is None:
        m = _SEMANTIC_LINE.search(str(e))
        line = int(m.group(1)) if m else None
        if isinstance(e, SyntaxError) and e.args:
            msg = str(e.args[0])
    if isinstance(e, KeyError) and e.args:
        msg = f"undeclared name {e.args[0]!r}"
    msg = msg.splitlines()[0] if msg else type(e).__name__
    where = f"{label}:{line}" if line else label
    return f"{where}: malformed PDDL: {msg}"


def _term(node: Any) -> str:
    if node.is_parameter_exp():
        return "?" + node.parameter().name
    if node.is_object_exp():
        return node.object().name
    raise PDDLError(f"unsupported term {node} (only objects and parameters)")


def _atom(node: Any) -> Atom:
    if not node.is_fluent_exp():
        raise PDDLError(f"unsupported condition {node}: only (conjunctions of) literals are supported here")
    return Atom(node.fluent().name, tuple(_term(a) for a in node.args))


def _literals(node: Any) -> list[Literal]:
    if node.is_equals():  # (= ?x ?y) between objects: kept as the built-in predicate "="
        return [Literal(Atom("=", (_term(node.arg(0)), _term(node.arg(1)))), True)]
    if node.is_not() and node.arg(0).is_equals():
        return [Literal(lit.atom, False) for lit in _literals(node.arg(0))]
    if node.is_and():
        return [lit for a in node.args for lit in _literals(a)]
    if node.is_not():
        return [Literal(_atom(node.arg(0)), False)]
    if node.is_true():
        return []
    return [Literal(_atom(node), True)]


def strips_view(problem: Any, label: str = "problem") -> StripsView:
    """The STRIPS structure of a parsed task; PDDLError for features outside STRIPS.

    Validation and planning work on any PDDL the tools accept; natural-language rendering and
    plan parsing need this view, so they are limited to STRIPS-style domains.
    """
    try:
        actions: dict[str, ActionSchema] = {}
        for a in problem.actions:
            if not hasattr(a, "preconditions"):
                raise PDDLError(f"action {a.name}: only instantaneous actions are supported")
            sch = ActionSchema(a.name, ["?" + p.name for p in a.parameters])
            for pre in a.preconditions:
                sch.pre.extend(_literals(pre))
            for eff in a.effects:
                if eff.is_conditional() or eff.is_forall() or not eff.value.is_bool_constant():
                    raise PDDLError(f"action {a.name}: only simple add/delete effects are supported")
                (sch.add if eff.value.is_true() else sch.delete).append(_atom(eff.fluent))
            actions[a.name] = sch
        init = [_atom(k) for k, v in problem.explicit_initial_values.items()
                if v.is_bool_constant() and v.is_true()]
        goal = [lit for g in problem.goals for lit in _literals(g)]
    except PDDLError as e:
        raise PDDLError(f"{label}: {e}") from None
    preds = {f.name: f.arity for f in problem.fluents}
    return StripsView("", problem.name, preds, actions,
                      [o.name for o in problem.all_objects], init, goal)

