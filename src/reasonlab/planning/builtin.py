"""Ready-made planning problems: generated Blocksworld (plain, Mystery, random names) and
folders of user PDDL, each with a one-shot example solved by the planner."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from . import blocksworld as bw
from .mystery import obfuscate
from .pddl import Task
from .planner import solve
from .render import Example

VARIANTS = ("plain", "mystery", "random")
EXAMPLE_SEED_OFFSET = 1_000_003  # examples come from their own stream, never from the evaluated items


def variant_task(task: Task, variant: str, seed: int = 0) -> Task:
    """`task` itself, or its Mystery / random-names version."""
    if variant == "plain":
        return task
    if variant not in VARIANTS:
        raise InputError(f"unknown variant {variant!r} (use {', '.join(VARIANTS)})")
    return obfuscate(task, variant, seed)[0]


def engine_for(n_blocks: int) -> str:
    """pyperplan answers small Blocksworld instances in milliseconds; Fast Downward scales further."""
    return "pyperplan" if n_blocks <= 5 else "auto"


def solved_example(task: Task, timeout: float = 60.0, engine: str = "auto") -> Example:
    res = solve(task, engine, timeout=timeout)
    if not res.solved or res.plan is None:
        raise InputError(f"the example problem {task.problem_label} could not be solved ({res.status})")
    return Example(task, res.plan)


def blocksworld_example(n_blocks: int, seed: int, avoid: set, variant: str = "plain") -> Example:
    """A solved instance from the example stream whose (init, goal) is not in `avoid`."""
    k = 1
    while True:
        cands = bw.generate(n_blocks, k, seed + EXAMPLE_SEED_OFFSET)
        inst = cands[-1]
        if inst.key not in avoid:
            break
        k += 1
    task = inst.task(f"bw-{n_blocks}-example")
    return solved_example(variant_task(task, variant, seed), engine=engine_for(n_blocks))


def pddl_folder(folder: str | Path) -> tuple[Path, list[Path]]:
    """(domain file, problem files) of a folder: a file named domain*.pddl beside problem files,
    or (PlanBench's layout) beside an `instances/` folder of problem files."""
    d = Path(folder)
    if not d.is_dir():
        raise InputError(f"not a folder: {d}")
    files = sorted(p for p in d.iterdir() if p.suffix.lower() == ".pddl")
    domains = [p for p in files if p.stem.lower().startswith("domain")]
    if len(domains) != 1:
        raise InputError(f"{d}: expected exactly one domain file (domain*.pddl), found {len(domains)}")
    problems = [p for p in files if p != domains[0]]
    if not problems and (d / "instances").is_dir():
        problems = sorted((p for p in (d / "instances").iterdir() if p.suffix.lower() == ".pddl"),
                          key=_natural)
    if not problems:
        raise InputError(f"{d}: no problem files (*.pddl) beside {domains[0].name}")
    return domains[0], problems


def _natural(p: Path) -> tuple:
    """instance-9 before instance-10."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.stem))
