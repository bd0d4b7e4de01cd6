"""Bad input to any command: one clear line on stderr, a documented exit code, never a traceback.

Exit codes: 0 ok, 1 results contain failures, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "planbench" / "blocksworld"
BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def run(args: list[str], tmp: Path, env: dict[str, str] | None = None, timeout: int = 120):
    e = {**os.environ, "REASONLAB_CACHE": str(tmp / "cache.sqlite"), **(env or {})}
    e.pop("REASONLAB_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "reasonlab", *args], capture_output=True, text=True,
                          env=e, cwd=tmp, timeout=timeout, stdin=subprocess.DEVNULL)


def files(tmp: Path) -> dict[str, Path]:
    out = {
        "script": tmp / "m.json", "binary": tmp / "bin.json", "listjson": tmp / "list.json",
        "deep": tmp / "deep.yaml", "bomb": tmp / "bomb.yaml", "binplan": tmp / "p.plan",
        "prog": tmp / "prog.py", "surrogate": tmp / "surr.jsonl",
    }
    out["script"].write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    out["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 50)
    out["listjson"].write_text('{"default": ["not", {"a": "reply"}], "delay_s": "x"}', encoding="utf-8")
    out["deep"].write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    out["bomb"].write_text(BOMB, encoding="utf-8")
    out["binplan"].write_bytes(bytes(range(256)) * 4)
    out["prog"].write_text("print('hi')\n", encoding="utf-8")
    out["surrogate"].write_text('{"id": "a", "question": "\\ud800 what?", "answer": "1"}\n', encoding="utf-8")
    return out


CASES = {
    # name: (argv with {placeholders}, allowed exit codes, a word the one line must contain)
    "unknown strategy in eval": (["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "bogus",
                                  "-m", "scripted:{script}", "--out", "{tmp}/r"], {2}, "bogus"),
    "eval into /proc": (["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "direct",
                         "-m", "scripted:{script}", "--out", "/proc/xx"], {2}, "/proc/xx"),
    "huge generated dataset": (["eval", "-d", "procedural:two-step-arithmetic?n=1000000000", "-s", "direct",
                                "-m", "scripted:{script}", "--out", "{tmp}/r2"], {2}, "n must"),
    "nan option": (["ask", "q?", "-s", "pal", "-o", "timeout_s=nan", "-m", "scripted:{script}"], {2}, "timeout_s"),
    "string where a number belongs": (["ask", "q?", "-s", "zero-shot-cot", "-o", "max_tokens=lots",
                                       "-m", "scripted:{script}"], {2}, "max_tokens"),
    "negative memory": (["ask", "q?", "-s", "pal", "-o", "memory_mb=-1", "-m", "scripted:{script}"], {2}, "memory"),
    "sandbox nan timeout": (["sandbox", "run", "{prog}", "--timeout", "nan"], {2}, "timeout"),
    "sandbox /dev/zero": (["sandbox", "run", "/dev/zero"], {2}, "/dev/zero"),
    "plan nan timeout": (["plan", "--blocksworld", "3", "--mode", "planner", "--timeout", "nan"], {2}, "timeout"),
    "plan binary plan file": (["plan", "--domain", str(SHARED / "domain.pddl"), "--problem",
                               str(SHARED / "instances" / "instance-101.pddl"), "--plan", "{binplan}"], {2}, "plan"),
    "deeply nested graph": (["graph", "check", "{deep}"], {2}, "deep"),
    "yaml alias bomb": (["graph", "check", "{bomb}"], {2}, "alias"),
    "binary scripted model": (["ask", "q?", "-s", "direct", "-m", "scripted:{binary}"], {1, 2}, "bin.json"),
    "malformed scripted model": (["ask", "q?", "-s", "direct", "-m", "scripted:{listjson}"], {1, 2}, "list.json"),
    "unwritable cache": (["ask", "q?", "-s", "direct", "-m", "scripted:{script}"], {2}, "cache"),
    "lone surrogate in a dataset": (["eval", "-d", "jsonl:{surrogate}", "-s", "direct", "-m", "scripted:{script}",
                                     "--out", "{tmp}/r3"], {2}, "surrogate"),
    "too many runs": (["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "direct", "-m", "scripted:{script}",
                       "--runs", "100000000", "--out", "{tmp}/r4"], {2}, "--runs"),
    "too many tasks": (["eval", "-d", "procedural:two-step-arithmetic?n=100000", "-s", "direct,zero-shot-cot",
                        "-m", "scripted:{script}", "--runs", "6", "--out", "{tmp}/r5"], {2}, "tasks"),
    "bad exemplars file in eval": (["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "few-shot-cot",
                                    "-m", "scripted:{script}", "--exemplars", "{binary}", "--out", "{tmp}/r6"],
                                   {2}, "bin.json"),
    "bad sandbox ceiling": (["serve", "-m", "scripted:{script}", "--sandbox-memory-mb", "-1"], {2}, "sandbox"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_gives_one_line(name: str, tmp_path: Path):
    paths = files(tmp_path)
    argv, codes, word = CASES[name]
    argv = [a.format(tmp=tmp_path, **paths) for a in argv]
    env = {"REASONLAB_CACHE": "/proc/nope/cache.sqlite"} if name == "unwritable cache" else None
    if name == "deeply nested graph" or name == "yaml alias bomb":
        word = {"deeply nested graph": "nest", "yaml alias bomb": "alias"}[name]
    p = run(argv, tmp_path, env=env)
    err = p.stderr.strip()
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr[-2000:]
    assert p.returncode in codes, (p.returncode, err[-500:])
    lines = [ln for ln in err.splitlines() if ln.startswith("reasonlab: error") or ln.startswith("Error")]
    assert lines, err[-500:]
    assert word.lower() in err.lower(), err[-500:]


def test_corrupt_cache_is_moved_aside(tmp_path: Path):
    paths = files(tmp_path)
    cache = tmp_path / "cache.sqlite"
    cache.write_bytes(b"this is not a database" * 100)
    p = run(["ask", "2+3?", "-s", "direct", "-m", f"scripted:{paths['script']}"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "5" in p.stdout and "Traceback" not in p.stderr
    assert "cache" in p.stderr and "moved" in p.stderr
    assert list(tmp_path.glob("cache.sqlite.corrupt-*"))
    sqlite3.connect(cache).execute("SELECT COUNT(*) FROM completions")  # a fresh, working cache


def test_corrupt_results_store_is_one_line(tmp_path: Path):
    paths = files(tmp_path)
    out = tmp_path / "r"
    p = run(["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "direct", "-m", f"scripted:{paths['script']}",
             "--out", str(out)], tmp_path)
    assert p.returncode in (0, 1), p.stderr
    store = next(out.glob("*.sqlite"))
    store.write_bytes(b"garbage" * 1000)
    for argv in (["report", str(out)], ["plan-report", str(out)], ["show", str(out), "x"],
                 ["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "direct",
                  "-m", f"scripted:{paths['script']}", "--out", str(out)]):
        p = run(argv, tmp_path)
        assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr[-1000:]
        assert store.name in p.stderr


def test_eval_where_every_task_errored_exits_1(tmp_path: Path):
    script = tmp_path / "m.json"
    script.write_text(json.dumps({"default": "The answer is 5."}), encoding="utf-8")
    p = run(["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "direct",
             "-m", "openai:x@http://127.0.0.1:9/v1", "--out", str(tmp_path / "r")], tmp_path, timeout=300)
    assert p.returncode == 1, (p.returncode, p.stderr[-800:])
    assert "Traceback" not in p.stderr


def test_reply_with_lone_surrogate_and_controls_is_printed_cached_and_stored(tmp_path: Path):
    nasty = tmp_path / "nasty.json"
    nasty.write_text(json.dumps({"default": "The answer is \ud800 5 \x1b[31mred\x1b[0m."}), encoding="utf-8")
    for _ in range(2):  # the second run reads the reply back from the cache
        p = run(["ask", "q?", "-s", "zero-shot-cot", "-m", f"scripted:{nasty}"], tmp_path)
        assert p.returncode == 0 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr[-800:]
        assert "\\ud800" in p.stdout and "\x1b" not in p.stdout
    p = run(["eval", "-d", "procedural:two-step-arithmetic?n=2", "-s", "direct,self-consistency", "-m",
             f"scripted:{nasty}", "--out", str(tmp_path / "r"), "--no-plots", "--log-samples"], tmp_path)
    assert p.returncode == 0 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr[-800:]
    details = [d for (d,) in sqlite3.connect(tmp_path / "r" / "results.sqlite").execute("SELECT details FROM results")]
    assert len(details) == 4 and all("\ufffd" in d for d in details)  # stored, the lone surrogate replaced
