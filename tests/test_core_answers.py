"""Answer filters and normalisation."""

import pytest

from reasonlab.answers import answers_match, extract, normalize_number, vote_key
from reasonlab.answers.filters import bare_answer


@pytest.mark.parametrize("text,strict,flexible", [
    ("So 3 + 4 = 7. The answer is 7.", "7", "7"),
    ("Work...\n#### 1,234", "1,234", "1,234"),
    ("Thus \\boxed{\\frac{1}{2}} is it", "1/2", "1/2"),  # LaTeX fraction as a/b
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


# -- values returned by programs and tools, in the dataset's form (answers/program_values.py) ------------
from reasonlab.answers import program_value, render_value, truth_words  # noqa: E402


@pytest.mark.parametrize("printed,kind,truth,expected", [
    ("['syndrome', 'therefrom']", "text", ("True", "False"), "syndrome therefrom"),  # word list → text
    ("('apple', 'banana', 'cherry')", "text", ("True", "False"), "apple banana cherry"),  # tuple
    ("{'b', 'a'}", "text", ("True", "False"), "a b"),  # a set, in a stable order
    ("True", "text", ("Yes", "No"), "Yes"),  # bool → the dataset's true-word
    ("False", "text", ("True", "False"), "False"),
    ("2.0000000001", "number", ("True", "False"), "2"),  # float noise
    ("0.30000000000000004", "number", ("True", "False"), "0.3"),
    ("1.5", "number", ("True", "False"), "1.5"),
    ("12.0", "number", ("True", "False"), "12"),
    ("[42]", "number", ("True", "False"), "42"),  # one element
    ("[3, 4.0]", "auto", ("True", "False"), "3, 4"),  # numbers comma-separated
    ("None", "number", ("True", "False"), None),
    ("syndrome therefrom", "text", ("True", "False"), "syndrome therefrom"),  # no literal: kept
])
def test_render_value_per_kind(printed, kind, truth, expected):
    assert render_value(printed, kind, truth) == expected


def test_rendered_program_values_score_against_golds():
    assert answers_match(render_value("['syndrome', 'therefrom']", "text"), "syndrome therefrom", "text")
    assert not answers_match("['syndrome', 'therefrom']", "syndrome therefrom", "text")  # the bug it fixes
    assert answers_match(render_value("2.0000000001", "number"), "2", "number")


def test_program_value_is_a_filter_of_the_extraction_chain():
    assert extract("['b', 'a']", "text").flexible == "b a"
    assert extract("True", "text", truth=("Yes", "No")).strict == "Yes"
    assert extract("2.0000000001", "number").strict == "2"
    assert extract("The answer is 7.", "number").strict == "7"  # prose is left to the other filters
    f = program_value("text")
    assert f("hello") is None and f("'quoted'") is None and f("[1, 'a']") == "1 a"


@pytest.mark.parametrize("text,choices,meta,expected", [
    ("not ( True ) and ( True ) is", None, None, ("True", "False")),
    ("Fidel lies. Jim says Fidel tells the truth. Does Jim tell the truth?", None, None, ("Yes", "No")),
    ("Is the following sentence plausible? Answer yes or no.", None, None, ("Yes", "No")),
    ("Pick one.", ["valid", "invalid"], None, ("valid", "invalid")),
    ("Anything", None, {"truth_words": ["sí", "no"]}, ("sí", "no")),
])
def test_truth_words(text, choices, meta, expected):
    assert truth_words(text, choices, meta) == expected
