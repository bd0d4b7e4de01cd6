"""`reasonlab plugins`: the installed plugin packages and what each adds (docs/plugins.md)."""

from __future__ import annotations

import click

from ._common import echo_json, json_option


@click.command()
@json_option
def plugins(as_json: bool) -> None:
    """List plugins found through entry points, by group, and the ones skipped (with why)."""
    from ..discover import plugin_report
    from ..eval.datasets import list_datasets
    from ..strategies import list_strategies
    from ..tools import list_tools

    list_strategies(), list_datasets(), list_tools()  # load every registry: their plugins with them
    report = plugin_report()
    if as_json:
        echo_json(report)
        return
    for group, found in report["groups"].items():
        click.echo(f"{group}:")
        for name, origin in found.items():
            click.echo(f"  {name:<24} {origin}")
        if not found:
            click.echo("  (none)")
    if report["problems"]:
        click.echo("skipped:")
        for line in report["problems"]:
            click.echo(f"  {line}")


COMMANDS = [plugins]
