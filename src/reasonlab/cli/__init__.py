"""The `reasonlab` command. Each module in this folder contributes commands through `COMMANDS`.

Adding a command is one new file here defining `COMMANDS = [some_click_command]`; keep heavy
imports inside the command functions so `reasonlab --help` stays fast.
"""

from __future__ import annotations

import inspect
import os
import sys

import click

from ..discover import import_submodules
from ..errors import ReasonlabError


class _Group(click.Group):
    """Lists each command with its whole first paragraph, wrapped (click cuts it with "…")."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, summary(cmd)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def summary(cmd: click.Command) -> str:
    """A command's short help, else the first paragraph of its help, on one line."""
    text = cmd.short_help or inspect.cleandoc(cmd.help or "").split("\n\n")[0]
    return " ".join(text.split())


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog="Exit codes: 0 ok, 1 results contain failures (e.g. errored eval tasks), "
                    "2 bad usage or input, 130 interrupted.")
@click.version_option(package_name="reasonlab")
def cli() -> None:
    """Make language models reason better, and measure it.

    Runs offline on the embedded model (smollm2) by default; any GGUF file works through
    `--model llama:PATH.gguf`, and any OpenAI-compatible server through
    `--model openai:MODEL@http://HOST:PORT/v1`. `reasonlab COMMAND --help` explains a command
    with examples.
    """


for _mod in import_submodules(__name__):
    for _cmd in getattr(_mod, "COMMANDS", []):
        cli.add_command(_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user-facing errors become one line on stderr and a non-zero exit code."""
    for stream in (sys.stdout, sys.stderr):  # text that is not valid Unicode (a lone surrogate) prints escaped
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        cli.main(args=argv, prog_name="reasonlab", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("reasonlab: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("reasonlab: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except ReasonlabError as e:
        click.echo(f"reasonlab: error: {e}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        sys.exit(0)
    except RecursionError:
        click.echo("reasonlab: error: the input is nested too deeply to read", err=True)
        sys.exit(2)
    except MemoryError:
        click.echo("reasonlab: error: out of memory (the input or the run is too large for this machine)", err=True)
        sys.exit(1)
    except OSError as e:  # a file or folder we could not read or write
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        click.echo(f"reasonlab: error:{where}: {e.strerror or e}", err=True)
        sys.exit(2)
    except Exception as e:  # noqa: BLE001 - the last boundary: one line, the traceback only on request
        if os.environ.get("REASONLAB_DEBUG"):
            raise
        click.echo(f"reasonlab: internal error: {type(e).__name__}: {str(e)[:300]} "
                   f"(this is a bug; REASONLAB_DEBUG=1 shows the traceback)", err=True)
        sys.exit(1)
    sys.exit(0)
