"""Blocksworld generator and Mystery renaming: valid states, goals not already true, seeds."""

import pytest

from reasonlab.errors import InputError
from reasonlab.planning import blocksworld as bw
from reasonlab.planning.mystery import BLOCKSWORLD_WORDS, obfuscate
from reasonlab.planning.simulate import simulate


@pytest.mark.parametrize("n", [2, 3, 4, 6, 9])
def test_states_are_valid_and_goals_not_already_true(n):
    insts = bw.generate(n, 4 if n > 2 else 3, seed=5)
    for inst in insts:
        blocks = [b for tower in inst.init for b in tower]
        assert sorted(blocks) == bw.block_names(n)  # every block exactly once
        assert all(tower for tower in inst.init)
        assert inst.goal and not set(inst.goal) <= bw.on_facts(inst.init)
        uppers = [a for a, _ in inst.goal]
        lowers = [b for _, b in inst.goal]
        assert len(set(uppers)) == len(uppers) and len(set(lowers)) == len(lowers)  # a reachable state
        view = inst.task("t").strips
        assert simulate(view, []).goal_reached_at is None  # the empty plan does not solve it
        assert {str(a) for a in view.init} >= {"(handempty)"}


def test_seeds_reproducible_and_distinct():
    a = bw.generate(4, 15, seed=3)
    b = bw.generate(4, 15, seed=3)
    c = bw.generate(4, 15, seed=4)
    assert a == b
    assert a != c
    assert len({i.key for i in a}) == 15  # duplicates removed
    assert bw.instance(4, 3, 7) == a[7]


def test_too_many_instances_for_two_blocks():
    with pytest.raises(InputError, match="distinct"):
        bw.generate(2, 50, seed=0, max_tries=500)


@pytest.mark.parametrize("bad", [0, 1, 27])
def test_block_count_limits(bad):
    with pytest.raises(InputError):
        bw.generate(bad, 1)


def test_problem_pddl_parses_with_planning_library():
    task = bw.generate(5, 1, seed=1)[0].task("p")
    view = task.strips
    assert view.objects == ["a", "b", "c", "d", "e"]
    assert set(view.actions) == {"pick-up", "put-down", "stack", "unstack"}


def test_mystery_renames_actions_and_predicates_only():
    task = bw.generate(4, 1, seed=2)[0].task("p")
    mt, mapping = obfuscate(task, "mystery")
    assert mapping == {k: v for k, v in BLOCKSWORLD_WORDS.items()}
    view = mt.strips
    assert set(view.actions) == {"kindle", "wander", "braid", "unravel"}
    assert set(view.predicates) == {"lantern", "meadow", "stillness", "echo", "yearns"}
    assert view.objects == task.strips.objects
    for word in ("pick-up", "stack", "clear", "ontable", "holding", "blocksworld"):
        assert word not in mt.domain_text and word not in mt.problem_text
    assert len(view.init) == len(task.strips.init)


def test_random_names_are_seeded():
    task = bw.generate(4, 1, seed=2)[0].task("p")
    a = obfuscate(task, "random", seed=1)[1]
    b = obfuscate(task, "random", seed=1)[1]
    c = obfuscate(task, "random", seed=2)[1]
    assert a == b and a != c
    assert len(set(a.values())) == len(a)
    with pytest.raises(InputError):
        obfuscate(task, "klingon")
