"""diverse: prompt variants × samples, verifier scoring (log-probabilities or sampled), weighted vote."""

from __future__ import annotations

import pytest

from reasonlab.api import run
from reasonlab.exemplars import load
from reasonlab.models.scripted import ScriptedModel
from reasonlab.problem import Problem
from reasonlab.strategies import StrategyError
from reasonlab.strategies.diverse import judgement, variant_sets, verifier_messages

Q = "Ana buys 4 packs of 6 pens and gives away 5 pens. How many pens does she have?"
PATHS = ["4 × 6 = 24, 24 - 5 = 19. The answer is 19.", "The answer is 20.",   # variant 0
         "The answer is 20.", "24 - 5 = 19. The answer is 19.",                # variant 1
         "The answer is 20.", "I do not know."]                                # variant 2


def scores(msgs, continuation):
    """Log-probabilities: the verifier believes paths that show their work for 19."""
    good = "19" in msgs[-1]["content"]
    if continuation == "correct":
        return [-0.1] if good else [-2.5]
    return [-2.5] if good else [-0.1]


def test_message_flow_variants_then_verifier_then_weighted_vote():
    model = ScriptedModel(replies=PATHS, logprobs=scores)
    res = run(Q, "diverse", model, cache=False, samples=2)
    pool = {ex.id: ex for ex in load("arithmetic-pool")}
    variants = res.details["exemplars"]["variants"]
    assert res.details["exemplars"]["set"] == "arithmetic-pool"
    assert len(variants) == 3 and all(len(v) == 3 for v in variants)
    assert len({i for v in variants for i in v}) == 9  # disjoint exemplar sets
    assert len(model.received) == 3  # one batched request per prompt variant
    for v, msgs in enumerate(model.received):
        assert [m["content"] for m in msgs[:-1:2]] == [pool[i].question for i in variants[v]]
        assert msgs[-1] == {"role": "user", "content": Q}
    samples = [c for c in res.calls if c.kind == "generate"]
    assert [c.label for c in samples] == ["sample v0"] * 2 + ["sample v1"] * 2 + ["sample v2"] * 2
    assert all(c.params["temperature"] == 0.7 for c in samples)
    verify = [c for c in res.calls if c.kind == "logprobs"]
    # each distinct answered path is scored once: "correct" then "incorrect"
    distinct = list(dict.fromkeys(t for t in PATHS if t != "I do not know."))
    assert [(c.messages, c.params["continuation"]) for c in verify] == [
        (verifier_messages(Problem(Q), t), cont) for t in distinct for cont in ("correct", "incorrect")]
    d = res.details
    assert d["votes"] == {"19": 2, "20": 3}
    assert res.answer == "19"  # 2 confident paths outweigh 3 doubtful ones
    assert d["weights"]["19"] > d["weights"]["20"] and d["verifier"] == {"enabled": True, "mode": "logprobs",
                                                                         "fallback": None}
    assert d["paths"][5]["weight"] == 0.0 and d["paths"][5]["answer"] is None
    assert 0.85 < d["share"] < 0.9  # 2 × 0.917 of 2 × 0.917 + 3 × 0.083


def test_no_verifier_is_a_plain_vote_over_all_paths():
    model = ScriptedModel(replies=PATHS, logprobs=scores)
    res = run(Q, "diverse", model, cache=False, samples=2, verifier=False)
    assert res.answer == "20" and all(c.kind == "generate" for c in res.calls)
    assert res.details["share"] == 0.5 and "weights" not in res.details


def test_sampled_judgement_when_the_backend_has_no_logprobs():
    def reply(msgs, params, i):
        last = msgs[-1]["content"]
        if "Is the solution correct?" in last:
            return ["Correct.", "incorrect", "hmm"][i] if "19" in last else "Incorrect."
        return ["The answer is 19.", "The answer is 20."][i]

    model = ScriptedModel(fn=reply)
    res = run(Q, "diverse", model, cache=False, prompts=2, samples=2)
    verify = [c for c in res.calls if c.label == "verify"]
    assert {c.kind for c in verify} == {"generate"} and len(verify) == 2 * 3  # 2 distinct paths × 3 samples
    assert res.details["verifier"]["mode"] == "sample"
    assert "no log-probabilities" in res.details["verifier"]["fallback"]
    assert [p["weight"] for p in res.details["paths"]] == [0.5, 0.0, 0.5, 0.0]
    assert res.answer == "19"


def test_all_paths_without_answers():
    res = run(Q, "diverse", ScriptedModel(default="no idea", logprobs=scores), cache=False, samples=2)
    assert res.status == "no_answer" and "none of the 6 sampled paths" in res.note
    assert not [c for c in res.calls if c.kind == "logprobs"]  # nothing to verify


def test_variant_sets():
    pool = load("arithmetic-pool")
    a = variant_sets(Problem(Q), pool, 3, 2, "random", seed=0)
    assert a == variant_sets(Problem(Q), pool, 3, 2, "random", seed=0)  # seeded
    assert a != variant_sets(Problem(Q), pool, 3, 2, "random", seed=1)
    small = load("multiple-choice")
    wrapped = variant_sets(Problem(Q), small, 4, 2, "random", seed=0)
    assert all(len(s) == 2 for s in wrapped)  # wraps around a small pool
    sim = variant_sets(Problem("Each of 5 people shakes hands with each other. How many handshakes?"), pool,
                       2, 2, "similar", seed=0)
    assert sim[0][-1].extra["procedure"] == "counting pairs"  # best match leads variant 0
    with pytest.raises(StrategyError, match="random or similar"):
        variant_sets(Problem(Q), pool, 2, 2, "fixed", seed=0)


@pytest.mark.parametrize("text, value", [("Correct.", 1.0), ("incorrect", 0.0), ("The solution is wrong", 0.0),
                                         ("Yes", 1.0), ("not correct", 0.0), ("...", None)])
def test_judgement(text, value):
    assert judgement(text) == value


def test_bad_verifier_mode():
    with pytest.raises(StrategyError, match="verifier_mode"):
        run(Q, "diverse", ScriptedModel(default="The answer is 1."), cache=False, verifier_mode="vibes")


def test_cli_flags_reach_the_options(tmp_path, capsys):
    import json

    from reasonlab.cli import main

    spec = tmp_path / "m.json"
    spec.write_text(json.dumps({"default": "The answer is 19."}))
    with pytest.raises(SystemExit) as e:
        main(["ask", Q, "-s", "diverse", "--no-verifier", "-k", "2", "--shots", "1", "-o", "prompts=2",
              "-m", f"scripted:{spec}", "--json", "--no-cache"])
    assert e.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answer"] == "19" and out["details"]["verifier"] == {"enabled": False}
    assert out["options"]["samples"] == 2 and out["options"]["prompts"] == 2 and len(out["calls"]) == 4
