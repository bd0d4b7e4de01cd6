"""Exemplar files: built-in sets are well-formed and correct; bad files fail with file:line."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from reasonlab.exemplars import (
    ExemplarError,
    builtin_sets,
    load,
    load_file,
    procedure_text,
    resolve,
    select,
)

_NUM = r"\d+(?:\.\d+)?"
_OP = r"[+\-×*/÷]"
_EXPR = rf"-?{_NUM}(?:\s*{_OP}\s*{_NUM})*"
_LEFT = re.compile(rf"({_EXPR})\s*$")
_RIGHT = re.compile(rf"\s*({_EXPR})")


def _value(expr: str) -> Fraction:
    """Evaluate a + - × / expression over decimals with the usual precedence (our data, no eval)."""
    tokens = re.findall(rf"{_NUM}|{_OP}", expr.replace(" ", ""))
    if expr.strip().startswith("-"):
        tokens = ["0", *tokens]
    terms: list[Fraction] = []
    sign, i = 1, 0
    while i < len(tokens):
        if tokens[i] in "+-":
            sign = 1 if tokens[i] == "+" else -1
            i += 1
        term = Fraction(tokens[i])
        i += 1
        while i < len(tokens) and tokens[i] in "×*/÷":
            op, rhs = tokens[i], Fraction(tokens[i + 1])
            term = term * rhs if op in "×*" else term / rhs
            i += 2
        terms.append(sign * term)
    return sum(terms, Fraction(0))


def equations(text: str) -> list[tuple[str, str]]:
    """Every `expr = expr` in a solution (chains a = b = c give two pairs)."""
    pairs = []
    for m in re.finditer("=", text):
        left, right = _LEFT.search(text[: m.start()]), _RIGHT.match(text[m.end():])
        if left and right:
            pairs.append((left.group(1), right.group(1)))
    return pairs


def test_equation_checker_catches_a_wrong_sum():
    assert [(_value(a), _value(b)) for a, b in equations("so 3 × 4 + 2 = 15 apples")] == [(14, 15)]
    assert _value("1/6 + 2/6") == _value("1/2")
    assert _value("5 - 12") == _value("-7")


def test_builtin_sets_are_well_formed_and_their_arithmetic_is_right():
    sets = builtin_sets()
    assert {"arithmetic", "arithmetic-pool", "date", "logic", "multiple-choice"} <= set(sets)
    for name in sets:
        exemplars = load(name)
        ids = [ex.id for ex in exemplars]
        assert len(ids) == len(set(ids)), name
        for ex in exemplars:
            if ex.extra.get("format") == "program":  # a worked program: running it gives the answer
                scope: dict = {}
                exec(ex.solution, scope)  # noqa: S102 - the project's own exemplar programs
                value = scope["solution"]()
                assert (value if isinstance(value, str) else str(value)) == ex.answer, ex.id
                continue
            ans = f"({ex.answer})" if name == "multiple-choice" else ex.answer
            assert ex.solution.endswith(f"The answer is {ans}."), ex.id
            for left, right in equations(ex.solution):
                assert _value(left) == _value(right), f"{ex.id}: {left} = {right}"
    assert len(load("arithmetic-pool")) >= 30
    procedures = {ex.extra["procedure"] for ex in load("arithmetic-pool")}
    assert len(procedures) >= 30  # varied procedures, not one pattern with different numbers


def test_resolve_picks_the_set_for_the_answer_kind():
    assert resolve("auto", "number")[0] == "arithmetic"
    assert resolve("auto", "number", pool=True)[0] == "arithmetic-pool"
    assert resolve("auto", "choice")[0] == "multiple-choice"
    assert resolve("date", "number")[0] == "date"


def test_bad_json_line_names_file_and_line(tmp_path):
    p = tmp_path / "ex.jsonl"
    p.write_text('{"question": "q", "solution": "s", "answer": "1"}\n\n{"question": "q2", oops}\n')
    with pytest.raises(ExemplarError, match=rf"{re.escape(str(p))}:3: not valid JSON"):
        load_file(p)


def test_missing_field_names_file_line_and_field(tmp_path):
    p = tmp_path / "ex.jsonl"
    p.write_text('# comment\n{"question": "q", "solution": "s"}\n')
    with pytest.raises(ExemplarError, match=r"ex\.jsonl:2: field 'answer' is missing"):
        load_file(p)


@pytest.mark.parametrize("line, msg", [
    ('["q", "s", "a"]', "expected a JSON object"),
    ('{"question": "", "solution": "s", "answer": "1"}', "field 'question' is empty"),
    ('{"question": "q", "solution": "s", "answer": "1", "id": 3}', "field 'id' must be a string"),
])
def test_other_bad_lines(tmp_path, line, msg):
    p = tmp_path / "ex.jsonl"
    p.write_text(line + "\n")
    with pytest.raises(ExemplarError, match=rf":1: {msg}"):
        load_file(p)


def test_numeric_answer_accepted_and_ids_default_to_file_line(tmp_path):
    p = tmp_path / "mine.jsonl"
    p.write_text('{"question": "1+1?", "solution": "1 + 1 = 2. The answer is 2.", "answer": 2}\n')
    (ex,) = load_file(p)
    assert ex.answer == "2" and ex.id == "mine:1"


def test_empty_missing_and_unknown(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n# nothing\n")
    with pytest.raises(ExemplarError, match="no exemplars"):
        load_file(empty)
    with pytest.raises(ExemplarError, match="not found"):
        load(str(tmp_path / "nope.jsonl"))
    with pytest.raises(ExemplarError, match="unknown exemplar set 'arithmetics'"):
        load("arithmetics")


def test_procedure_text_masks_numbers_names_and_amounts():
    t = procedure_text("Then Maria paid $12.50 for 3/4 of 40% of 1,200 apples.")
    assert "maria" not in t and "12" not in t and "1,200" not in t
    assert "dollars" in t and "frac" in t and "percent" in t and "num" in t


def test_tfidf_selection_prefers_the_same_procedure():
    pool = load("arithmetic-pool")
    sel = select("A coat costs $90 and is 30% off, then 5% tax is added. What is the final price?", pool, 3)
    assert len(sel.exemplars) == 3
    assert sel.scores == sorted(sel.scores)  # most similar last, next to the question
    assert sel.exemplars[-1].extra["procedure"] == "successive percentages"
    sel2 = select("How many handshakes happen when 9 people each shake hands with everyone else once?", pool, 2)
    assert sel2.exemplars[-1].extra["procedure"] == "counting pairs"


def test_embedding_selection_with_an_encoder_and_without_one():
    pool = load("arithmetic")[:3]

    def encoder(texts):  # picks pool item 1 by construction
        return [[1.0, 0.0]] + [[0.0, 1.0], [1.0, 0.1], [0.0, 1.0]][: len(texts) - 1]

    sel = select("anything", pool, 1, method="embedding", encoder=encoder)
    assert sel.exemplars == [pool[1]]
    with pytest.raises(ExemplarError, match="unknown selection method"):
        select("q", pool, 1, method="bm25")
