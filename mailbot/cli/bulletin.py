"""`mailbot bulletin`: the 《政务信息工作通报》 for a period, previewed, written to files or sent."""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mailbot.cli.common import ConfigOpt, deliver, fail, print_table, runtime


def bulletin(
    period: Annotated[str, typer.Option("--period", help="2026-10 | 2026-Q1 | 2026")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print what would be sent to whom")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="write .html, .txt, .xlsx and .eml files here")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="send every unit its copy (exactly once)")] = False,
    config: ConfigOpt = None,
) -> None:
    """The 《政务信息工作通报》 for a period: preview, write to files, or send to every unit."""
    from mailbot.app import publish
    from mailbot.core.bulletin.content import bulletin_title
    from mailbot.core.scoring.periods import PeriodError, parse_period

    if sum([dry_run, out is not None, send]) != 1:
        raise fail(2, "bulletin needs exactly one of --dry-run, --out DIR, --send")
    with runtime(config) as rt:
        try:
            p = parse_period(period, rt.rules.calendar)
        except PeriodError as exc:
            raise fail(2, f"--period: {exc}") from exc
        if dry_run:
            data, planned = publish.dry_run(rt, p)
            typer.echo(
                f"{bulletin_title(data)}: {len(planned)} mail to {len({x.unit_id for x in planned})} units"
            )
            print_table(
                ["单位", "收件人", "本期得分", "排名"],
                [
                    [
                        x.unit_name,
                        x.address,
                        *next((str(r.score), str(r.rank)) for r in data.rows if r.unit_id == x.unit_id),
                    ]
                    for x in planned
                ],
            )
            return
        if out is not None:
            for path in publish.write_out(rt, p, out):
                typer.echo(f"wrote {path}")
            return
        data, queued = publish.issue(rt, p)
        typer.echo(f"{bulletin_title(data)}: {queued} copies queued")
        deliver(rt)
        typer.echo(f"sent so far: {publish.sent_for(rt, p.label)}")
