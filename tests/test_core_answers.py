"""Answer filters and normalisation."""

import pytest

from reasonlab.answers import answers_match, extract, normalize_number, vote_key
from reasonlab.answers.filters import bare_answer


@pytest.mark.parametrize("text,strict,flexible", [
    ("So 3 + 4 = 7. The answer is 7.", "7", "7"),
    ("Work...\n#### 1,234", "1,234", "1,234"),
    ("Thus \\boxed{\\frac{1}{2}} is it", "\\frac{1}{2}", "\\frac{1}{2}"),
    ("She has 5 apples, then 3 more, so 8", None, "8"),
    ("no digits here", None, "no digits here"),
    ("答案是 12。", "12", "12"),
    ("The answer is: **42**", "42", "42"),
])
def test_extract_auto(text, strict, flexible):
    ex = extract(text)
    assert ex.strict == strict
    assert ex.flexible == flexible


def test_extract_number_narrows_to_the_number():
    ex = extract("The answer is 18 dollars.", "number")
    assert ex.strict == "18"
    assert extract("first 3 then 4, total 7", "number").strict is None
    assert extract("first 3 then 4, total 7", "number").flexible == "7"


def test_extract_choice():
    ex = extract("I think the answer is (B) because...", "choice")
    assert ex.strict == "B"
    assert extract("C", "choice").flexible == "C"


@pytest.mark.parametrize("text,letter", [
    ("I pick (B) because it fits", "B"), ("The correct option is C.", "C"), ("D) seven", "D"),
    ("A", "A"), ("I think so", None), ("A cat sat", None), ("answer: E", "E"), ("The answer is a dog", None),
])
def test_choice_letter(text, letter):
    from reasonlab.answers.filters import choice_letter

    assert choice_letter(text) == letter


def test_last_answer_marker_wins():
    assert extract("The answer is 3. Wait, no. The answer is 5.").strict == "5"


@pytest.mark.parametrize("raw,norm", [
    ("$1,234.00", "1234"), ("1234", "1234"), ("2468/2", "1234"), ("0.50", "0.5"), ("1/2", "0.5"),
    ("1/3", "1/3"), ("-7.", "-7"), ("18 dollars", "18"), ("５０", "50"), ("−3", "-3"),
])
def test_normalize_number(raw, norm):
    assert normalize_number(raw) == norm


def test_normalize_number_none():
    assert normalize_number("seven") is None


@pytest.mark.parametrize("a,b,same", [
    ("$18", "18", True), ("18.0", "18", True), ("1/2", "0.5", True), ("17", "18", False),
    ("Paris", "paris.", True), ("Paris", "London", False), (None, "1", False), ("3.14", "3.1416", False),
])
def test_answers_match(a, b, same):
    assert answers_match(a, b) is same


def test_answers_match_tolerance():
    assert answers_match("3.14", "3.1416", kind="number", tol=0.001)
    assert not answers_match("3.0", "3.1416", kind="number", tol=0.001)


def test_vote_key_groups_equal_values():
    assert vote_key("1,000") == vote_key("1000") == vote_key("1000.0")
    assert vote_key("Paris") == vote_key("paris")
    assert vote_key(None) is None


def test_bare_answer():
    assert bare_answer("42.", "number") == "42"
    assert bare_answer("The total is 42", "number") is None
    assert bare_answer("(B)", "choice") == "B"
