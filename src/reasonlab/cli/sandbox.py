"""`reasonlab sandbox run FILE.py` and `reasonlab sandbox check`."""

from __future__ import annotations

import re
import sys

import click

from ._common import echo_json, json_option

# Control characters a terminal acts on (ESC and C1 included), except newline and tab.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def neutralise(text: str) -> str:
    """`text` with terminal control characters shown as escapes (ESC → \\x1b), so a program's
    output cannot move the cursor, retitle the window or rewrite what was printed before."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@click.group()
def sandbox() -> None:
    """Run Python programs in the isolated sandbox used for model-written code."""


@sandbox.command("run")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--timeout", "timeout_s", type=float, default=10.0, show_default=True,
              help="Wall-clock limit in seconds (the whole process tree is killed).")
@click.option("--cpu", "cpu_s", type=int, default=5, show_default=True, help="CPU seconds per process.")
@click.option("--memory", "memory_mb", type=int, default=512, show_default=True,
              help="Memory of the whole process tree, MiB.")
@click.option("--processes", type=int, default=32, show_default=True,
              help="Processes/threads of the whole tree.")
@json_option
@click.option("--unsafe-exec", is_flag=True,
              help="Where no isolation is available, run anyway in a plain child process (limits only).")
def run_cmd(file: str, timeout_s: float, cpu_s: int, memory_mb: int, processes: int, as_json: bool,
            unsafe_exec: bool) -> None:
    """Run FILE.py in the sandbox ("-" reads the program from stdin).

    Prints the program's stdout and stderr and how it ended; the exit code is 0 only when the
    program itself succeeded (its own status otherwise, 1 when a limit or signal stopped it).
    """
    from ..errors import InputError
    from ..sandbox import MAX_PROGRAM_BYTES, Limits, run_code, run_file
    from ..sandbox.limits import MAXIMUM, check_limit

    for flag, field, value in (("--timeout", "timeout_s", timeout_s), ("--cpu", "cpu_s", cpu_s),
                               ("--memory", "memory_mb", memory_mb), ("--processes", "processes", processes)):
        check_limit(flag, value, integer=field != "timeout_s", maximum=MAXIMUM[field])
    limits = Limits(timeout_s=timeout_s, cpu_s=cpu_s, memory_mb=memory_mb, processes=processes)
    if file == "-":
        data = sys.stdin.buffer.read(MAX_PROGRAM_BYTES + 1)
        if len(data) > MAX_PROGRAM_BYTES:
            raise InputError(f"the program on stdin is larger than {MAX_PROGRAM_BYTES} bytes")
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the program on stdin is not UTF-8 text") from None
        result = run_code(source, limits, unsafe=unsafe_exec)
    else:
        result = run_file(file, limits, unsafe=unsafe_exec)
    if as_json:
        echo_json({**result.to_dict(), "limits": limits.to_dict()})
    else:
        sys.stdout.write(neutralise(result.stdout))
        sys.stdout.flush()
        sys.stderr.write(neutralise(result.stderr))
        how = ("ok" if result.ok else f"stopped by the {result.limit} limit" if result.limit else
               f"killed by signal {result.signal}" if result.signal else f"exit status {result.exit_code}")
        click.echo(f"[sandbox {result.backend}: {how}, {result.seconds:.2f}s"
                   f"{', output truncated' if result.truncated else ''}]", err=True)
    if not result.ok:
        sys.exit(result.exit_code if result.exit_code and result.exit_code > 0 else 1)


@sandbox.command("check")
@json_option
def check_cmd(as_json: bool) -> None:
    """Say which isolation backend works here and why (exit 1 when none does)."""
    from ..sandbox import detect

    info = detect()
    if as_json:
        echo_json(info.to_dict())
    else:
        click.echo(f"backend: {info.backend} ({info.reason})")
        if info.interpreter:
            click.echo(f"interpreter: {info.interpreter.executable} "
                       f"(Python {'.'.join(map(str, info.interpreter.version))})")
        if info.drop_uid:
            click.echo("running as root: programs run as a fresh unprivileged uid")
        if info.tree_limits:
            click.echo(f"tree caps: {info.tree_limits}")
        for note in info.notes:
            click.echo(f"note: {note}")
    if info.backend == "none":
        sys.exit(1)


COMMANDS = [sandbox]
