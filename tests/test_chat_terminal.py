"""`reasonlab chat` driven in a pseudo-terminal, like a person typing."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import subprocess
import sys
import termios
import time

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """A child process on a pty, with expect-style reading."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()

        def controlling_tty() -> None:  # a session of its own, with the pty as its terminal (Ctrl-C works)
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
                                     preexec_fn=controlling_tty)
        os.close(slave)
        self.buffer = ""

    def expect(self, pattern: str, timeout: float = 60.0) -> str:
        """Read until `pattern` (a regex) appears; return everything read up to and including it."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.buffer)
            if m:
                seen, self.buffer = self.buffer[: m.end()], self.buffer[m.end():]
                return seen
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; got {self.buffer[-800:]!r}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"terminal closed waiting for {pattern!r}; got {self.buffer[-800:]!r}")
                self.buffer += ANSI.sub("", data.decode("utf-8", "replace")).replace("\r", "")

    def send(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> int:
        try:
            return self.proc.wait(20)
        finally:
            os.close(self.master)


@pytest.fixture()
def script(tmp_path, monkeypatch):
    path = tmp_path / "chat.json"
    path.write_text(json.dumps({"by_prompt": {
        "Let's think step by step": "Two and two make four.",
        "Therefore, the answer (arabic numerals) is": "4",
        "Reply with only the final answer": "4",
        "again": "Still 4.",
    }, "default": "No idea."}), encoding="utf-8")
    return path


def _env(tmp_path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"REASONLAB_CACHE": str(tmp_path / "cache.sqlite"), "TERM": "dumb", "COLUMNS": "100",
                "NO_COLOR": "1"})
    return env


def test_chat_session_with_history_and_commands(tmp_path, script):
    term = Terminal([sys.executable, "-m", "reasonlab", "chat", "--model", f"scripted:{script}",
                     "--strategy", "direct", "--no-cache"], _env(tmp_path))
    try:
        term.expect(r"/help for commands")
        term.expect(r"you> ")
        term.send("What is 2 + 2?")
        out = term.expect(r"you> ")
        assert "· answer #0" in out  # the call shown as it happened
        assert "reasonlab> 4" in out and "[direct: 1 call," in out

        term.send("/strategy zero-shot-cot")
        assert "strategy: zero-shot-cot" in term.expect(r"you> ")
        term.send("And 2 + 2 once more?")
        out = term.expect(r"you> ")
        assert "reasoning #0" in out and "extract #0" in out and "reasonlab> 4" in out

        term.send("/history")
        out = term.expect(r"you> ")
        assert "user: What is 2 + 2?" in out and "assistant: 4" in out and "user: And 2 + 2 once more?" in out

        term.send("/trace")
        out = term.expect(r"you> ")
        assert "[reasoning]" in out and "Two and two make four." in out

        term.send("/option")
        assert "usage: /option KEY=VALUE" in term.expect(r"you> ")
        term.send("/option max_tokens=50")
        assert "max_tokens" in term.expect(r"you> ")
        term.send("/options")
        out = term.expect(r"you> ")
        assert "max_tokens = 50 (default" in out  # the current value, not only the default
        term.send("/option bogus=1")
        assert "error:" in term.expect(r"you> ")
        term.send("/strategy nope")
        out = term.expect(r"you> ")
        assert "error: unknown strategy 'nope'" in out
        term.send("/strategy chat")
        term.expect(r"you> ")
        term.send("Say it again")
        assert "reasonlab> Still 4." in term.expect(r"you> ")
        term.send("/reset")
        assert "cleared" in term.expect(r"you> ")
        term.send("/history")
        assert "user:" not in term.expect(r"you> ")
        term.send("/frobnicate")
        assert "unknown command" in term.expect(r"you> ")
        term.send("/quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_chat_ends_on_eof(tmp_path, script):
    term = Terminal([sys.executable, "-m", "reasonlab", "chat", "--model", f"scripted:{script}", "--no-cache"],
                    _env(tmp_path))
    try:
        term.expect(r"you> ")
        os.write(term.master, b"\x04")  # Ctrl-D
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()


def test_chat_rejects_unknown_strategy_at_start(tmp_path, script):
    p = subprocess.run([sys.executable, "-m", "reasonlab", "chat", "--model", f"scripted:{script}", "--strategy", "nope"],
                       capture_output=True, text=True, env=_env(tmp_path), timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 2 and "unknown strategy" in p.stderr and "Traceback" not in p.stderr


def test_ctrl_c_cancels_a_running_answer(tmp_path):
    path = tmp_path / "slow.json"
    path.write_text(json.dumps({"default": "The answer is 4.", "delay_s": 8}), encoding="utf-8")
    term = Terminal([sys.executable, "-m", "reasonlab", "chat", "--model", f"scripted:{path}",
                     "--strategy", "zero-shot-cot", "--no-cache"], _env(tmp_path))
    try:
        term.expect(r"you> ")
        term.send("What is 2 + 2?")
        time.sleep(0.5)
        os.write(term.master, b"\x03")  # Ctrl-C while the first call runs (it sleeps 8 s: no race under load)
        out = term.expect(r"you> ")
        assert "(cancelled)" in out and "reasonlab>" not in out
        assert "extract" not in out  # the second call never ran
        term.send("/history")
        assert "user:" not in term.expect(r"you> ")
        term.send("/quit")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
