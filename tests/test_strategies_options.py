"""The shared option edge (`reasonlab.strategies.options`): parsing, routing, validation, and every door using it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from reasonlab.cli import main
from reasonlab.errors import InputError
from reasonlab.strategies import list_strategies
from reasonlab.strategies.options import (
    RULES,
    Limits,
    OptionError,
    option_names,
    parse_assignments,
    route,
    validate,
)


def test_parse_assignments_normalises_names_not_prefixes():
    assert parse_assignments(["max-tokens=5", "self-consistency.early-stop=1", "stop=a=b"]) == {
        "max_tokens": "5", "self-consistency.early_stop": "1", "stop": "a=b"}
    with pytest.raises(InputError, match="not KEY=VALUE"):
        parse_assignments(["max_tokens"])


def test_route_bare_keys_to_every_strategy_having_them_and_prefixed_to_one():
    got = route({"max_tokens": "5", "pal.samples": "3", "temperature": "0.2"}, ["direct", "pal"])
    assert got == {"direct": {"max_tokens": "5", "temperature": "0.2"},
                   "pal": {"max_tokens": "5", "samples": "3", "temperature": "0.2"}}
    with pytest.raises(OptionError, match="not chosen"):
        route({"react.tools": "calculator"}, ["direct"])
    with pytest.raises(OptionError, match="no chosen strategy has an option 'samples'"):
        route({"samples": "3"}, ["direct"])
    assert route({"react.tools": "x", "samples": "3"}, ["direct"], check=False) == {"direct": {}}


@pytest.mark.parametrize("strategy, given, want", [
    ("direct", {"max_tokens": "64", "temperature": "0.5"}, {"max_tokens": 64, "temperature": 0.5}),
    ("self-consistency", {"early_stop": "yes", "samples": "4"}, {"early_stop": True, "samples": 4}),
    ("chat", {"stop": "a,b"}, {"stop": ["a", "b"]}),
])
def test_command_line_strings_are_converted(strategy, given, want):
    assert validate(strategy, given) == want


@pytest.mark.parametrize("strategy, given, fragment", [
    ("direct", {"temperature": "nan"}, "finite"),
    ("direct", {"temperature": "-inf"}, "finite"),
    ("direct", {"temperature": "3"}, "less than or equal to 2"),
    ("direct", {"max_tokens": "0"}, "greater than or equal to 1"),
    ("direct", {"max_tokens": "1.5"}, "valid integer"),
    ("pal", {"timeout_s": "nan"}, "finite"),
    ("pal", {"timeout_s": "0"}, "greater than 0"),
    ("pal", {"memory_mb": "-1"}, "greater than or equal to 16"),
    ("self-consistency", {"early_stop": "maybe"}, "valid boolean"),
    ("direct", {"bogus": "1"}, "has no option 'bogus'"),
])
def test_bad_values_are_refused_everywhere(strategy, given, fragment):
    with pytest.raises(OptionError, match=fragment):
        validate(strategy, given)


def test_strict_mode_refuses_strings_for_numbers_and_bools_for_numbers():
    server = Limits.server(1000)
    with pytest.raises(OptionError, match="valid integer"):
        validate("direct", {"max_tokens": "100"}, strict=True, limits=server)
    with pytest.raises(OptionError, match="valid number"):
        validate("direct", {"temperature": True}, strict=True, limits=server)
    assert validate("direct", {"temperature": 1}, strict=True, limits=server) == {"temperature": 1.0}


@pytest.mark.parametrize("strategy, given, code", [
    ("direct", {"max_tokens": 1001}, "max_tokens_exceeded"),
    ("zero-shot-cot", {"extract_tokens": 5000}, "max_tokens_exceeded"),
    ("self-consistency", {"samples": 33}, "option_limit"),
    ("pal", {"memory_mb": 513}, "option_limit"),  # above the sandbox's own limit: only tightening
    ("pal", {"timeout_s": 11.0}, "option_limit"),
    ("pal", {"unsafe_exec": False}, "forbidden_option"),
    ("few-shot-cot", {"exemplars": "/etc/passwd"}, "forbidden_option"),
    ("few-shot-cot", {"exemplars": "notes"}, "forbidden_option"),
    ("react", {"tools": "calculator,shell"}, "forbidden_option"),
])
def test_server_limits_only_tighten(strategy, given, code):
    with pytest.raises(OptionError) as info:
        validate(strategy, given, strict=True, limits=Limits.server(1000))
    assert info.value.code == code
    if code != "forbidden_option":
        validate(strategy, given)  # the same value is fine for the operator on the command line


def test_server_accepts_tighter_values():
    server = Limits.server(1000)
    assert validate("pal", {"memory_mb": 256, "timeout_s": 2.5, "samples": 3}, strict=True, limits=server) == {
        "memory_mb": 256, "timeout_s": 2.5, "samples": 3}
    assert validate("few-shot-cot", {"exemplars": "arithmetic"}, strict=True, limits=server)


def test_every_registered_option_has_a_range_or_is_kept_from_clients():
    """The allow-list is RULES: a new numeric option without a rule stays local until given a range."""
    for name, cls in list_strategies().items():
        for opt in option_names(cls):
            rule = RULES.get(opt)
            if rule is not None and rule.remote:
                continue
            with pytest.raises(OptionError) as info:
                validate(name, {opt: None}, strict=True, limits=Limits.server(1000))
            assert info.value.code == "forbidden_option", (name, opt)


@pytest.mark.parametrize("args", [
    ["ask", "What is 2+2?", "-s", "pal", "-o", "timeout_s=nan", "--dry-run"],
    ["ask", "What is 2+2?", "-s", "direct", "-o", "max_tokens=-5", "--dry-run"],
    ["ask", "What is 2+2?", "-s", "direct", "--temperature", "inf", "--dry-run"],
    ["ask", "What is 2+2?", "-s", "direct", "-o", "max_tokens", "--dry-run"],
    ["eval", "-d", "procedural:two-step-arithmetic?n=3", "-s", "direct", "-o", "temperature=nan", "--out", "{out}"],
    ["eval", "-d", "procedural:two-step-arithmetic?n=3", "-s", "direct", "-o", "pal.samples=3", "--out", "{out}"],
    ["chat", "-s", "direct", "-o", "max_tokens=0"],
])
def test_cli_doors_refuse_bad_options_with_one_line(tmp_path, capsys, args):
    model = tmp_path / "m.json"
    model.write_text(json.dumps({"default": "4"}), encoding="utf-8")
    args = [a.replace("{out}", str(tmp_path / "out")) for a in args] + ["-m", f"scripted:{model}"]
    with pytest.raises(SystemExit) as info:
        main(args)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "Traceback" not in err and err.strip()
    assert not (tmp_path / "out" / "results.sqlite").exists() or "eval" not in args


def test_cli_chat_option_command_is_validated(tmp_path):
    model = tmp_path / "m.json"
    model.write_text(json.dumps({"default": "4"}), encoding="utf-8")
    from reasonlab.cli import cli

    r = CliRunner().invoke(cli, ["chat", "-s", "direct", "-m", f"scripted:{model}"],
                           input="/option temperature=nan\n/quit\n")
    assert "finite" in r.output
