"""`mailbot yuegao new|list`: commissioned requests (约稿) and each unit's state on them."""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from mailbot.cli.common import ConfigOpt, JsonOpt, deliver, dump, fail, runtime

yuegao_app = typer.Typer(no_args_is_help=True, help="Commissioned requests (约稿).")


@yuegao_app.command("new")
def yuegao_new(
    title: Annotated[str, typer.Option("--title", help="what is asked for")],
    due: Annotated[str, typer.Option("--due", help="YYYY-MM-DD, last day (office time)")],
    units: Annotated[str | None, typer.Option("--units", help="unit ids, comma-separated")] = None,
    series: Annotated[str | None, typer.Option("--series", help="every unit of this series")] = None,
    text_file: Annotated[Path | None, typer.Option("--text-file", help="the request's text")] = None,
    config: ConfigOpt = None,
) -> None:
    """Mail a numbered request (约稿#N) to the chosen units' officers."""
    from mailbot.app.commission import create_request

    if (units is None) == (series is None):
        raise fail(2, "yuegao new needs exactly one of --units or --series")
    try:
        due_date = dt.date.fromisoformat(due)
    except ValueError as exc:
        raise fail(2, f"--due: not a date YYYY-MM-DD: {due!r}") from exc
    text = text_file.read_text(encoding="utf-8") if text_file else ""
    with runtime(config) as rt:
        directory = rt.directory()
        if units is not None:
            chosen = []
            for uid in (u.strip() for u in units.split(",") if u.strip()):
                unit = directory.get(uid) or directory.match(uid)
                if unit is None:
                    raise fail(2, f"--units: no unit {uid!r}")
                chosen.append(unit)
        else:
            chosen = [u for u in directory.units if u.series == series]
            if not chosen:
                raise fail(2, f"--series: no unit in series {series!r}")
        number = create_request(rt, title=title, units=chosen, due=due_date, text=text)
        typer.echo(f"约稿#{number}: {title}, due {due_date}, {len(chosen)} unit(s)")
        deliver(rt)


@yuegao_app.command("list")
def yuegao_list(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Every request with each unit's state: on_time, late, open, missed."""
    from mailbot.app import queries

    with runtime(config) as rt:
        data: list[dict[str, Any]] = [
            {
                "number": r.request.id,
                "title": r.request.title,
                "due": r.request.due.isoformat(),
                "units": [
                    {
                        "unit": st.unit_id,
                        "unit_name": st.unit_name,
                        "state": str(st.state),
                        "item": st.item_id,
                    }
                    for st in r.units
                ],
            }
            for r in queries.commissions(rt)
        ]
    if as_json:
        dump(data)
        return
    for r in data:
        typer.echo(f"约稿#{r['number']}  {r['title']}  截止 {r['due']}")
        for u in r["units"]:
            typer.echo(f"    {u['unit_name']}: {u['state']}{'  ' + u['item'] if u['item'] else ''}")
