"""The `mailbot` command line (SPEC §8). `--json` output is a contract; exit codes 0/1/2.

Commands stay thin: they open the runtime, call one function of the application
layer (mailbot/app, the only one holding database sessions), and print. This module
assembles the commands, one module per concern, in the order `mailbot --help` lists them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from mailbot.cli import bulletin, operate, scores, start
from mailbot.cli.items import items_app, messages_app
from mailbot.cli.logs import log_commands
from mailbot.cli.units import units_app
from mailbot.cli.yuegao import yuegao_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="mailbot: 政务信息报送 over email.")
app.command("check-config")(operate.check_config)
app.command()(operate.poll)
app.command()(operate.decide)
app.command()(scores.scores)
app.command()(start.demo)
app.command()(start.init)
app.command()(bulletin.bulletin)
app.command()(operate.run)
app.command()(operate.status)
app.add_typer(items_app, name="items")
app.add_typer(messages_app, name="messages")
app.add_typer(units_app, name="units")
app.add_typer(yuegao_app, name="yuegao")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `mailbot` script."""
    log_commands()
    app(args=list(argv) if argv is not None else None, prog_name="mailbot")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
