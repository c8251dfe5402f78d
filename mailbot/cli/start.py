"""Getting started: `mailbot init` writes a new office's config, `mailbot demo` runs a sample month."""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mailbot.cli.common import fail, me


def demo(
    directory: Annotated[Path, typer.Option("--dir", help="where the demo office lives")] = Path("demo"),
    reset: Annotated[bool, typer.Option("--reset", help="wipe --dir first if it exists")] = False,
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM to simulate (default: last month)")
    ] = None,
) -> None:
    """A month at a small office, end to end, with no servers: Maildir in, SQLite, .eml files out."""
    from mailbot.demo.run import run_demo

    try:
        result = run_demo(directory.resolve(), reset=reset, month=month, say=typer.echo)
    except FileExistsError as exc:
        raise fail(2, str(exc)) from exc
    cfg = result.config
    cmd = me()
    typer.echo("")
    typer.echo("Look around:")
    typer.echo(f"  {cmd} items list -c {cfg}")
    typer.echo(f"  {cmd} messages list -c {cfg}")
    typer.echo(f"  {cmd} scores --period {result.period} -c {cfg}")
    typer.echo(f"  {cmd} scores --period {result.period} --explain QX01 -c {cfg}")
    typer.echo("  the bulletin:")
    for path in result.bulletin_files:
        typer.echo(f"    {path}")
    typer.echo(
        f"  every mail mailbot sent (receipts, review requests, notices, bulletins) as .eml: {result.outbox_dir}"
    )


def init(
    directory: Annotated[
        Path, typer.Argument(help="folder for the new office's config (created if missing)")
    ],
    office: Annotated[
        str | None, typer.Option("--office", help="the office's name, e.g. 某某市人民政府办公室")
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="scoring rules to start from: guangzhou, county or city")
    ] = "guangzhou",
) -> None:
    """Write a commented starting config (mailbot.toml, units.toml, scoring.toml); never overwrites."""
    from mailbot.cli.init import init_office

    try:
        written = init_office(directory, office=office, profile=profile)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        raise fail(2, f"mailbot init: {exc}") from exc
    for path in written:
        typer.echo(f"wrote {path}")
    config = written[0]
    typer.echo("")
    typer.echo("Next:")
    typer.echo(f"  edit {config} (mailbox, smtp, office, reviewers) and {written[1]} (units, officers)")
    cmd = me()
    typer.echo(f"  {cmd} check-config -c {config}")
    typer.echo(f"  {cmd} poll --once -c {config}     # or: mailbot run -c {config}")
