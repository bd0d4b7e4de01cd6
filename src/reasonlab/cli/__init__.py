"""The `reasonlab` command. Each module in this folder contributes commands through `COMMANDS`.

Adding a command is one new file here defining `COMMANDS = [some_click_command]`; keep heavy
imports inside the command functions so `reasonlab --help` stays fast.
"""

from __future__ import annotations

import sys

import click

from ..discover import import_submodules
from ..errors import ReasonlabError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="reasonlab")
def cli() -> None:
    """Make language models reason better, and measure it.

    Runs offline on the embedded model (smollm2) by default; any GGUF file works through
    `--model llama:PATH.gguf`, and any OpenAI-compatible server through
    `--model openai:MODEL@http://HOST:PORT/v1`.
    """


for _mod in import_submodules(__name__):
    for _cmd in getattr(_mod, "COMMANDS", []):
        cli.add_command(_cmd)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user-facing errors become one line on stderr and a non-zero exit code."""
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
    sys.exit(0)
