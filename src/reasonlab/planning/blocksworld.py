"""Blocksworld (4 operators) and a seeded instance generator.

A state is a set of towers, each listed bottom to top. An instance is an initial state and a
goal made of the `on` facts of a second random state; instances whose goal already holds
initially are rejected, and duplicates are removed, so a seed always gives the same distinct
instances.

Random states are built block by block (in a shuffled order), each block going on the table
or on top of a uniformly chosen existing tower: simple and seeded, though not uniform over
all states.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import InputError
from .pddl import Task

DOMAIN = """\
(define (domain blocksworld)
  (:requirements :strips)
  (:predicates (clear ?x) (ontable ?x) (handempty) (holding ?x) (on ?x ?y))

  (:action pick-up
    :parameters (?ob)
    :precondition (and (clear ?ob) (ontable ?ob) (handempty))
    :effect (and (holding ?ob) (not (clear ?ob)) (not (ontable ?ob)) (not (handempty))))

  (:action put-down
    :parameters (?ob)
    :precondition (holding ?ob)
    :effect (and (clear ?ob) (handempty) (ontable ?ob) (not (holding ?ob))))

  (:action stack
    :parameters (?ob ?underob)
    :precondition (and (clear ?underob) (holding ?ob))
    :effect (and (handempty) (clear ?ob) (on ?ob ?underob) (not (clear ?underob)) (not (holding ?ob))))

  (:action unstack
    :parameters (?ob ?underob)
    :precondition (and (on ?ob ?underob) (clear ?ob) (handempty))
    :effect (and (holding ?ob) (clear ?underob) (not (on ?ob ?underob)) (not (clear ?ob))
                 (not (handempty)))))
"""

MAX_BLOCKS = 26
Towers = tuple[tuple[str, ...], ...]


def block_names(n: int) -> list[str]:
    if not 1 <= n <= MAX_BLOCKS:
        raise InputError(f"Blocksworld needs 1 to {MAX_BLOCKS} blocks, got {n}")
    return [chr(ord("a") + i) for i in range(n)]


def canonical(towers: list[list[str]] | Towers) -> Towers:
    """Towers in a fixed order (by bottom block), so equal states compare equal."""
    return tuple(sorted((tuple(t) for t in towers if t), key=lambda t: t[0]))


def random_state(blocks: list[str], rng: random.Random) -> Towers:
    order = list(blocks)
    rng.shuffle(order)
    towers: list[list[str]] = []
    for b in order:
        k = rng.randrange(len(towers) + 1)
        if k == len(towers):
            towers.append([b])
        else:
            towers[k].append(b)
    return canonical(towers)


def on_facts(towers: Towers) -> set[tuple[str, str]]:
    """(upper, lower) pairs of a state."""
    return {(t[i + 1], t[i]) for t in towers for i in range(len(t) - 1)}


def state_facts(towers: Towers) -> list[str]:
    """PDDL facts of a state with an empty hand, in a stable order."""
    facts = ["(handempty)"]
    for t in towers:
        facts.append(f"(ontable {t[0]})")
        facts.extend(f"(on {t[i + 1]} {t[i]})" for i in range(len(t) - 1))
        facts.append(f"(clear {t[-1]})")
    return facts


@dataclass(frozen=True)
class Instance:
    """A Blocksworld instance: initial towers and goal `on` pairs (upper, lower)."""

    init: Towers
    goal: tuple[tuple[str, str], ...]
    n_blocks: int

    @property
    def key(self) -> tuple[Towers, tuple[tuple[str, str], ...]]:
        return self.init, self.goal

    def problem_pddl(self, name: str) -> str:
        objects = " ".join(block_names(self.n_blocks))
        init = " ".join(state_facts(self.init))
        goal = " ".join(f"(on {a} {b})" for a, b in self.goal)
        return (f"(define (problem {name})\n  (:domain blocksworld)\n  (:objects {objects})\n"
                f"  (:init {init})\n  (:goal (and {goal})))\n")

    def task(self, name: str) -> Task:
        return Task(DOMAIN, self.problem_pddl(name), "blocksworld-domain.pddl", f"{name}.pddl", name=name)


def random_instance(n_blocks: int, rng: random.Random) -> Instance:
    """One instance whose goal is not already true in its initial state."""
    blocks = block_names(n_blocks)
    if n_blocks < 2:
        raise InputError("Blocksworld instances need at least 2 blocks (a goal is a set of 'on' facts)")
    while True:
        init = random_state(blocks, rng)
        goal = on_facts(random_state(blocks, rng))
        if goal and not goal <= on_facts(init):
            return Instance(init, tuple(sorted(goal)), n_blocks)


def generate(n_blocks: int, count: int, seed: int = 0, max_tries: int = 10_000) -> list[Instance]:
    """`count` distinct instances with `n_blocks` blocks; the same arguments give the same list.

    InputError when fewer distinct instances can be found (tiny block counts have few).
    """
    if count < 1:
        raise InputError(f"instance count must be at least 1, got {count}")
    rng = random.Random(f"blocksworld:{n_blocks}:{seed}")
    seen: set = set()
    out: list[Instance] = []
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > max_tries:
            raise InputError(f"found only {len(out)} distinct {n_blocks}-block instances, asked for {count}")
        inst = random_instance(n_blocks, rng)
        if inst.key not in seen:
            seen.add(inst.key)
            out.append(inst)
    return out


def instance(n_blocks: int, seed: int = 0, index: int = 0) -> Instance:
    """The `index`-th instance of the seeded sequence (what `reasonlab plan --blocksworld N --seed S` uses)."""
    return generate(n_blocks, index + 1, seed)[index]

