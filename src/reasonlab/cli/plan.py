"""`reasonlab plan`: solve a PDDL task with the model alone, with LLM-Modulo, with the verifier-guided
search (or its random control), or with a classical planner."""

from __future__ import annotations

import sys
from typing import Any

import click

from ._common import (
    FiniteFloat,
    echo_json,
    format_messages,
    json_option,
    load_cache,
    model_option,
    no_cache_option,
)

STRATEGIES = {"modulo": "plan-modulo", "autonomous": "plan-autonomous", "guided": "plan-guided",
              "random-guided": "plan-random-guided", "greedy-guided": "plan-greedy-guided"}
MODES = [*STRATEGIES, "planner"]


@click.command()
@click.option("--domain", type=click.Path(dir_okay=False), help="PDDL domain file.")
@click.option("--problem", type=click.Path(dir_okay=False), help="PDDL problem file.")
@click.option("--blocksworld", "n_blocks", type=int, help="Use a generated Blocksworld instance with N blocks.")
@click.option("--seed", type=int, default=0, show_default=True, help="Instance seed (with --blocksworld).")
@click.option("--index", type=int, default=0, show_default=True, help="Which instance of the seeded sequence.")
@click.option("--mystery", is_flag=True, help="Rename actions and predicates to unrelated words (Mystery).")
@click.option("--random-names", is_flag=True, help="Rename actions and predicates to random letter strings.")
@click.option("--mode", type=click.Choice(MODES), default="modulo", show_default=True,
              help="LLM-Modulo loop, one model attempt, verifier-guided search (model, random or greedy "
                   "choices), or the classical planner alone.")
@click.option("--rounds", type=int, default=15, show_default=True, help="Most LLM-Modulo rounds.")
@click.option("--plain", is_flag=True, help="modulo: the paper's loop (no grammar, no prefix keeping, one candidate).")
@click.option("--grammar/--no-grammar", default=True, show_default=True,
              help="Constrain plan lines / choices to the domain's actions (GBNF, where the backend supports it).")
@click.option("--prefix/--no-prefix", default=True, show_default=True,
              help="modulo: keep the valid prefix and ask only for the rest.")
@click.option("--candidates", type=int, default=3, show_default=True, help="modulo: plans per round (one batch).")
@click.option("--budget", type=int, default=40, show_default=True, help="guided: most moves of the search.")
@click.option("--scorer", type=click.Choice(["logprobs", "generate"]), default="logprobs", show_default=True,
              help="guided: score every applicable action by its log-probability (falls back to 'generate' "
                   "where the backend has none), or let the model write its choice.")
@click.option("--norm", type=click.Choice(["mean", "sum"]), default="mean", show_default=True,
              help="guided, logprobs: per-token mean or total log-probability of an action's words.")
@click.option("--effects", is_flag=True,
              help="guided: list with each action the goals it achieves or undoes (computed by the simulator; "
                   "compare with --mode greedy-guided, which uses that annotation without a model).")
@click.option("--applicable", is_flag=True,
              help="modulo: the first step of each attempt must be an action applicable where it starts "
                   "(grammar), and back-prompts list those actions, so each round with --prefix gains a step.")
@click.option("--goals-first", is_flag=True,
              help="guided: rank by the simulator's count of goals an action achieves minus undoes, and let "
                   "the model order only the actions tied at the best count (compare --mode greedy-guided, the "
                   "same ranking with ties broken at random).")
@model_option
@click.option("--planner", "engine", type=click.Choice(["auto", "fast-downward", "pyperplan"]), default="auto",
              show_default=True, help="Classical planner (mode planner, and one-shot examples).")
@click.option("--example", "example_file", type=click.Path(dir_okay=False),
              help="A problem file (same domain) to solve and show as the one-shot example.")
@click.option("--no-example", is_flag=True, help="Zero-shot: show no solved example.")
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False),
              help="Validate this plan file (PDDL or words) instead of planning; prints the critique.")
@click.option("--emit-pddl", type=click.Path(file_okay=False), help="Write the domain and problem PDDL here.")
@click.option("--max-tokens", type=int, default=256, show_default=True, help="Token limit of each attempt.")
@click.option("--timeout", type=FiniteFloat(0.1, 86400.0), default=60.0, show_default=True,
              help="Planner time limit, seconds.")
@click.option("--show-prompts", is_flag=True, help="Print every call's messages and output as it happens.")
@no_cache_option
@json_option
def plan(domain: str | None, problem: str | None, n_blocks: int | None, seed: int, index: int, mystery: bool,
         random_names: bool, mode: str, rounds: int, plain: bool, grammar: bool, prefix: bool, candidates: int,
         budget: int, scorer: str, norm: str, effects: bool, applicable: bool, goals_first: bool, model: str, engine: str, example_file: str | None,
         no_example: bool, plan_file: str | None, emit_pddl: str | None, max_tokens: int, timeout: float,
         show_prompts: bool, no_cache: bool, as_json: bool) -> None:
    """Plan with a sound verifier: model alone, LLM-Modulo, verifier-guided search, or a planner.

    Exit status: 0 when a valid plan is printed, 1 when there is none (unsolvable, or no valid
    plan within the rounds / budget), 2 for bad input (malformed PDDL names the file and line).

    \b
    Examples:
      reasonlab plan --blocksworld 4 --seed 1 --mode planner
      reasonlab plan --blocksworld 3 --mystery --rounds 5
      reasonlab plan --blocksworld 4 --mode guided --budget 40
      reasonlab plan --blocksworld 4 --mode greedy-guided    # the annotation alone, no model
      reasonlab plan --domain d.pddl --problem p.pddl --mode guided --model llama:M.gguf --json
      reasonlab plan --domain d.pddl --problem p.pddl --mode autonomous --model llama:M.gguf
      reasonlab plan --domain d.pddl --problem p.pddl --plan my.plan    # validate a plan
    """
    from pathlib import Path

    from ..errors import InputError
    from ..planning import blocksworld as bw
    from ..planning.builtin import blocksworld_example, solved_example, variant_task
    from ..planning.pddl import Task
    from ..planning.render import vocabulary

    if mystery and random_names:
        raise InputError("choose one of --mystery and --random-names")
    if applicable and mode != "modulo":
        raise InputError("--applicable goes with --mode modulo")
    if goals_first and mode != "guided":
        raise InputError("--goals-first goes with --mode guided (--mode greedy-guided is its no-model control)")
    variant = "mystery" if mystery else "random" if random_names else "plain"
    if n_blocks is not None:
        if domain or problem:
            raise InputError("use either --blocksworld N or --domain/--problem, not both")
        instances = bw.generate(n_blocks, index + 1, seed)
        task = variant_task(instances[index].task(f"bw-{n_blocks}-s{seed}-{index}"), variant, seed)
    elif domain and problem:
        task = variant_task(Task.from_files(domain, problem), variant, seed)
    else:
        raise InputError("give --domain FILE --problem FILE, or --blocksworld N (see `reasonlab plan --help`)")
    vocab = vocabulary(task)

    if emit_pddl:
        out_dir = Path(emit_pddl)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "domain.pddl").write_text(task.domain_text, encoding="utf-8")
        (out_dir / f"{task.name or 'problem'}.pddl").write_text(task.problem_text, encoding="utf-8")

    if plan_file:
        _validate_file(task, vocab, plan_file, as_json)
        return
    if mode == "planner":
        _run_planner(task, vocab, engine, timeout, as_json)
        return

    example = None
    if not no_example:
        if example_file:
            if not domain:
                raise InputError("--example goes with --domain/--problem (built-ins bring their own example)")
            example = solved_example(variant_task(Task.from_files(domain, example_file), variant, seed), timeout)
        elif n_blocks is not None:
            example = blocksworld_example(n_blocks, seed, {instances[index].key}, variant)
    options: dict[str, Any] = {"max_tokens": max_tokens}
    if mode == "modulo":
        options.update(rounds=rounds, plain=plain, grammar=grammar, prefix=prefix, candidates=candidates,
                       **({"applicable": True} if applicable else {}))
    elif mode in ("guided", "random-guided", "greedy-guided"):
        options.update(budget=budget, grammar=grammar, max_tokens=min(max_tokens, 48), scorer=scorer, norm=norm,
                       effects=effects, **({"goals_first": True} if goals_first else {}))
    _run_model(task, example, STRATEGIES[mode], options, model, show_prompts, no_cache, as_json)


def _validate_file(task: Any, vocab: Any, plan_file: str, as_json: bool) -> None:
    from pathlib import Path

    from ..errors import InputError
    from ..planning.modulo import read_critique
    from ..planning.parse import parse_plan
    from ..planning.validate import validate

    p = Path(plan_file)
    if not p.is_file():
        raise InputError(f"plan file not found: {p}")
    from ..errors import InputError

    if not p.is_file() or p.stat().st_size > 1024 * 1024:
        raise InputError(f"{p}: a plan file is a regular text file of at most 1 MiB")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p}: not a UTF-8 text plan file (one action per line)") from None
    parsed = parse_plan(text, vocab)
    problem = read_critique(parsed, vocab)
    verdict = None if problem else validate(task, parsed.actions, vocab)
    valid = bool(verdict and verdict.valid)
    if as_json:
        echo_json({"valid": valid, "parsed": parsed.to_dict(), "verdict": verdict.to_dict() if verdict else None,
                   "critique": problem or (verdict.critique if verdict else "")})
    else:
        click.echo(problem or (verdict.critique if verdict else ""))
    if not valid:
        sys.exit(1)


def _run_planner(task: Any, vocab: Any, engine: str, timeout: float, as_json: bool) -> None:
    from ..planning.planner import solve

    res = solve(task, engine, optimal=True, timeout=timeout)
    if as_json:
        d = res.to_dict()
        d["plan_words"] = [vocab.action(a) for a in res.plan] if res.plan else None
        echo_json(d)
    elif res.solved and res.plan is not None:
        click.echo(f"# {res.engine}: optimal plan of {len(res.plan)} steps in {res.seconds:.2f} s")
        for a in res.plan:
            click.echo(f"{a.pddl():<28} ; {vocab.action(a)}")
    else:
        click.echo(f"no plan: {res.message or res.status} ({res.engine}, {res.seconds:.2f} s)")
    for note in res.notes:
        click.echo(f"note: {note}", err=True)
    if not res.solved:
        sys.exit(1)


def _run_model(task: Any, example: Any, strategy: str, options: dict[str, Any], model: str,
               show_prompts: bool, no_cache: bool, as_json: bool) -> None:
    from ..api import run
    from ..planning.task import make_problem

    problem = make_problem(task, "auto", example)
    model_arg: Any = model
    if strategy == "plan-guided" and options.get("scorer", "logprobs") == "logprobs":
        from ..models import load_model, parse_spec

        if parse_spec(model).backend in ("llama", "hf"):  # one KV slot: every scoring call reuses the prompt cache
            model_arg = load_model(model, n_seq_max=1)
    listeners = []
    if show_prompts and not as_json:
        def show(event: str, payload: dict) -> None:
            if event == "call":
                click.echo(f"\n=== call {payload['id']} [{payload['label']}] ===", err=True)
                click.echo(format_messages(payload["messages"]), err=True)
                click.echo(f"--- output ---\n{payload['output']}", err=True)
        listeners.append(show)
    elif not as_json:
        def progress(event: str, payload: dict) -> None:
            if event == "plan_round":
                mark = "valid" if payload["valid"] else payload["critique"]
                click.echo(f"round {payload['round']}: {mark}", err=True)
            elif event == "plan_step" and payload["kind"] != "goal":
                mark = payload["choice"] if payload["kind"] != "backtrack" else payload["critique"]
                click.echo(f"step {payload['step']} ({payload['kind']}): {mark}", err=True)
        listeners.append(progress)
    result = run(problem, strategy, model_arg, cache=load_cache(no_cache), listeners=listeners, **options)
    d = result.details
    valid = bool(result.answer)
    if as_json:
        echo_json({"valid": valid, "plan": d.get("plan") if valid else None, "plan_words": d.get("plan_words"),
                   "mode": d.get("mode"), **result.to_dict()})
    elif valid:
        where = (f"found in round {d['rounds_used']}" if "rounds_used" in d
                 else f"found in {d['moves']} moves, {d['backtracks']} backtracks")
        click.echo(f"# valid plan ({len(d['plan'])} steps), {where}")
        for line, words in zip(d["plan"], d["plan_words"], strict=True):
            click.echo(f"{line:<28} ; {words}")
    elif "rounds_used" in d:
        click.echo(f"no valid plan ({d['rounds_used']} round(s)); last critique: {d['last_critique']}")
    else:
        click.echo(f"no valid plan ({d['moves']} moves, {d['status']})")
    u = result.usage
    if not as_json:
        click.echo(f"[{result.strategy} on {result.model}: {u.calls} calls, "
                   f"{u.prompt_tokens}+{u.completion_tokens} tokens, {u.seconds:.2f}s]", err=True)
    if not valid:
        sys.exit(1)


@click.command("plan-report")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--out", type=click.Path(dir_okay=False), help="Write the Markdown here instead of printing it.")
def plan_report(folder: str, out: str | None) -> None:
    """Planning report from an evaluation folder (`reasonlab eval … --out FOLDER` on planning datasets):
    autonomous vs LLM-Modulo, Blocksworld vs Mystery, rounds-to-success distribution."""
    from pathlib import Path

    from ..eval.plan_report import records_from_store, render

    text = render(records_from_store(folder))
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=False)


COMMANDS = [plan, plan_report]
