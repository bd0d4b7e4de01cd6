"""One line per metric and column, for the report's "What the numbers mean" section."""

from __future__ import annotations

METRICS = {
    "flexible": "the answer read loosely (an explicit statement, else e.g. the last number) equals the gold answer",
    "strict": "the answer the reasoning stated explicitly (\"The answer is …\", a program's value) equals the gold answer",
    "token_edit_distance": "word-token edit distance between the answer and the gold answer (0 = identical; a smooth "
                           "version of exact match, lower is better)",
    "gold_logprob": "mean log-probability per token the model gives the gold answer right after the question (smooth, "
                    "higher is better); it measures the model, not a strategy, so it is reported once per model",
    "brier": "multi-class Brier score of the option probabilities (0 best, 2 worst)",
    "mc_grade": "the option with the highest probability is the gold one (multiple choice)",
    "gold_prob": "probability of the gold option among the options (multiple choice)",
    "valid_plan": "the validator accepted the final plan",
    "goal_reached": "the goals held at some point while executing the plan's performable steps",
    "executable_prefix": "share of the plan's steps performable before the first failure",
    "plan_length": "steps in the final plan",
    "optimal_length": "steps in an optimal plan (classical planner)",
    "length_ratio": "plan length / optimal length (1 = optimal)",
    "rounds_used": "generate–validate rounds used",
    "rounds_to_success": "round in which the first valid plan came (valid runs only)",
}

COLUMNS = {
    "accuracy": "share of tasks whose primary metric is right, in percent, with its 95% Wilson interval; an "
                "errored task counts as wrong",
    "n": "tasks (items × runs) in the cell",
    "errors": "tasks that failed (model, sandbox or strategy error); re-running the same command retries them",
    "tokens/item": "prompt + completion tokens the model processed per task (cache hits excluded)",
    "calls/item": "model calls per task",
    "s/item": "model seconds per task",
    "gain over direct": "accuracy points over `direct` on the same items and runs (paired), with a 95% bootstrap "
                        "interval; – for direct itself or when direct was not run",
}


def metric_help(name: str) -> str:
    if name in METRICS:
        return METRICS[name]
    if name.startswith("step:"):
        step = name.split(":", 1)[1]
        return (f"the intermediate result `{step}` of the worked solution (e.g. the result of the first step) "
                "appears in the reasoning or the answer: a sub-step accuracy")
    return "a metric of this dataset (see its documentation)"


def glossary(metrics: list[str]) -> list[str]:
    """Markdown lines explaining the table columns and the given metrics."""
    out = ["## What the numbers mean", ""]
    out += [f"- **{k}**: {v}." for k, v in COLUMNS.items()]
    out += [f"- **{m}**: {metric_help(m)}." for m in metrics]
    return [*out, ""]
