"""Shared base of the planning datasets: items carry a planning task in their meta, and scoring
re-checks the model's plan with the validator (any strategy's answer can be scored).

Metrics per item:
  valid_plan      the validator accepted the final plan (0/1)
  goal_reached    the goals held at some point while executing the final attempt's
                  performable steps (0/1; smoother than validity)
  executable_prefix  share of the attempt's steps performable before the first failure
  plan_length, optimal_length, length_ratio (valid plans only: length / optimal)
  rounds_used     model attempts (planning strategies only)
  rounds_to_success  attempts until the first valid plan (None when none was found)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...errors import InputError
from ...result import Problem, Result
from .base import Dataset, Item


def planning_item(item_id: str, problem: Problem, gold_plan: list[str] | None, extra: dict[str, Any]) -> Item:
    """An Item whose meta holds everything `plan-*` strategies and `score` need."""
    meta = {**problem.meta, **extra, "optimal_length": len(gold_plan) if gold_plan is not None else None}
    return Item(id=item_id, question=problem.text, answer="\n".join(gold_plan or []), kind="plan", meta=meta)


class PlanningDataset(Dataset):
    """Base for datasets of planning tasks (not registered itself)."""

    primary = "valid_plan"

    def problem(self, item: Item, prompt_format: str = "closed") -> Problem:
        return Problem(text=item.question, kind="plan", language="en",
                       meta={"item_id": item.id, "prompt_format": prompt_format, **item.meta})

    def score(self, item: Item, result: Result, prompt_format: str = "closed") -> dict[str, float | None]:
        from ...planning.modulo import setup_from_problem
        from ...planning.parse import parse_plan
        from ...planning.simulate import simulate
        from ...planning.validate import validate

        setup = setup_from_problem(self.problem(item, prompt_format))
        d = result.details or {}
        rounds = d.get("rounds") if isinstance(d.get("rounds"), list) else None
        if rounds:  # a planning strategy: its last attempt, as parsed by the loop
            last = rounds[-1]["parsed"]["actions"]
            attempt = [_pddl_action(s) for s in last]
        else:  # any other strategy: its whole output if that reads as a plan, else its answer
            parsed = parse_plan(result.reasoning or "", setup.vocab)
            if not parsed.ok:
                parsed = parse_plan(result.answer or "", setup.vocab)
            attempt = parsed.actions if not parsed.errors else []
        # Validity comes from the validator only (never from the strategy's own claim).
        if rounds and d.get("valid") and d.get("plan"):
            final = [_pddl_action(s) for s in d["plan"]]
        else:
            final = attempt
        valid = bool(final) and validate(setup.task, final, setup.vocab).valid
        trace = simulate(setup.task.strips, attempt)
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
        }


def _pddl_action(text: str):
    from ...planning.pddl import GroundAction

    name, *args = text.strip().strip("()").split()
    return GroundAction(name, tuple(args))


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
    from ...planning.modulo import make_problem
    from ...planning.planner import solve

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
