"""Shared base of the planning datasets: items carry a `PlanningTask` (PDDL parsed once), and
scoring re-checks the model's plan with the validator (any strategy's answer can be scored).

Metrics per item:
  valid_plan      the validator accepted the final plan (0/1)
  goal_reached    the goals held at some point while executing the final attempt's
                  performable steps (0/1; smoother than validity)
  executable_prefix  share of the attempt's steps performable before the first failure
  plan_length, optimal_length, length_ratio (valid plans only: length / optimal)
  rounds_used     model attempts (planning strategies only)
  rounds_to_success  attempts until the first valid plan (None when none was found)
  moves           steps of the guided search (plan-guided, plan-random-guided only)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...errors import InputError
from ...problem import Problem, Result
from .base import Dataset, Item

PLANNING_TASK = "planning_task"  # the item meta key holding the parsed PlanningTask (never stored)


def planning_item(item_id: str, problem: Problem, gold_plan: list[str] | None, extra: dict[str, Any]) -> Item:
    """An Item carrying the problem's parsed `PlanningTask` (for `problem` and `score`) and its gold plan."""
    meta = {**problem.meta, **extra, "optimal_length": len(gold_plan) if gold_plan is not None else None,
            PLANNING_TASK: problem.planning}
    return Item(id=item_id, question=problem.text, answer="\n".join(gold_plan or []), kind="plan", meta=meta)


class PlanningDataset(Dataset):
    """Base for datasets of planning tasks (not registered itself)."""

    primary = "valid_plan"

    def problem(self, item: Item, prompt_format: str = "closed") -> Problem:
        meta = {k: v for k, v in item.meta.items() if k != PLANNING_TASK}
        return Problem(text=item.question, kind="plan", language="en",
                       meta={"item_id": item.id, "prompt_format": prompt_format, **meta},
                       planning=item.meta.get(PLANNING_TASK))

    def score(self, item: Item, result: Result, prompt_format: str = "closed") -> dict[str, float | None]:
        from ...planning.parse import parse_plan
        from ...planning.pddl import GroundAction
        from ...planning.simulate import simulate
        from ...planning.task import planning_task
        from ...planning.validate import validate

        planning = planning_task(self.problem(item, prompt_format))
        d = result.details or {}
        rounds = d.get("rounds") if isinstance(d.get("rounds"), list) else None
        guided = d.get("mode") in ("guided", "random-guided")
        claimed = [GroundAction.read(s) for s in d["plan"]] if d.get("valid") and d.get("plan") else None
        if rounds:  # LLM-Modulo / autonomous: the last attempt as validated by the loop
            last = rounds[-1]
            attempt = [GroundAction.read(s) for s in last.get("attempt", last["parsed"]["actions"])]
        elif guided:  # the search path is executable by construction: only a found plan is an attempt
            attempt = list(claimed or [])
        else:  # any other strategy: its whole output if that reads as a plan, else its answer
            parsed = parse_plan(result.reasoning or "", planning.vocab)
            if not parsed.ok:
                parsed = parse_plan(result.answer or "", planning.vocab)
            attempt = parsed.actions if not parsed.errors else []
        # Validity comes from the validator only (never from the strategy's own claim).
        final = claimed if (claimed and (rounds or guided)) else attempt
        valid = bool(final) and validate(planning.task, final, planning.vocab).valid
        trace = simulate(planning.task.strips, attempt)
        optimal = item.meta.get("optimal_length")
        length = len(final) if valid else None
        success_round = next((r["round"] for r in rounds or [] if r.get("valid")), None)
        return {
            "valid_plan": float(valid),
            "goal_reached": float(valid or trace.goal_reached_at is not None),
            "executable_prefix": (trace.executable / len(attempt)) if attempt else 0.0,
            "plan_length": float(length) if length is not None else None,
            "optimal_length": float(optimal) if optimal is not None else None,
            "length_ratio": (length / optimal) if (length is not None and optimal) else None,
            "rounds_used": float(len(rounds)) if rounds else None,
            "rounds_to_success": float(success_round) if success_round is not None else None,
            "moves": float(d["moves"]) if guided else None,
        }


def parse_count_seed(arg: str, spec: str) -> tuple[int, int, int]:
    """'N[:COUNT[:SEED]]' -> (n_blocks, count, seed); InputError with the expected form."""
    parts = [p.strip() for p in arg.split(":")] if arg else []
    try:
        n = int(parts[0])
        count = int(parts[1]) if len(parts) > 1 and parts[1] else 20
        seed = int(parts[2]) if len(parts) > 2 and parts[2] else 0
    except (ValueError, IndexError):
        raise InputError(f"{spec}: expected {spec.split(':')[0]}:N_BLOCKS[:COUNT[:SEED]], e.g. "
                         f"{spec.split(':')[0]}:4:10") from None
    if len(parts) > 3:
        raise InputError(f"{spec}: too many fields (N_BLOCKS[:COUNT[:SEED]])")
    return n, count, seed


@lru_cache(maxsize=32)
def _blocksworld_items(n_blocks: int, count: int, seed: int, variant: str) -> tuple[Item, ...]:
    from ...planning import blocksworld as bw
    from ...planning.builtin import blocksworld_example, engine_for, variant_task
    from ...planning.planner import solve
    from ...planning.task import make_problem

    instances = bw.generate(n_blocks, count, seed)
    example = blocksworld_example(n_blocks, seed, {i.key for i in instances}, variant)
    out = []
    for i, inst in enumerate(instances):
        task = variant_task(inst.task(f"bw-{n_blocks}-s{seed}-{i}"), variant, seed)
        gold = solve(task, engine_for(n_blocks))
        plan = [a.pddl() for a in gold.plan] if gold.plan is not None else None
        problem = make_problem(task, "auto", example)
        out.append(planning_item(f"bw{n_blocks}-s{seed}-{i}", problem, plan,
                                 {"n_blocks": n_blocks, "variant": variant, "planner": gold.engine}))
    return tuple(out)


def blocksworld_items(n_blocks: int, count: int, seed: int, variant: str) -> list[Item]:
    """COUNT generated instances (cached: the planner runs once per instance per process)."""
    return list(_blocksworld_items(n_blocks, count, seed, variant))
