"""`mailbot units list|import`: the reporting units, their series, parents and officers."""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mailbot.cli.common import ConfigOpt, JsonOpt, dump, fail, print_table, runtime
from mailbot.core.errors import ConfigError

units_app = typer.Typer(no_args_is_help=True, help="Reporting units.")


@units_app.command("list")
def units_list(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """The registered units with their series, parent and officers."""
    with runtime(config) as rt:
        units = rt.directory().units
    data: list[dict[str, Any]] = [
        {
            "id": u.id,
            "name": u.name,
            "short": u.short,
            "aliases": list(u.aliases),
            "series": u.series,
            "parent": u.parent,
            "parents": list(u.parents),
            "officers": list(u.officers),
            "bulletin_to": list(u.bulletin_to),
        }
        for u in units
    ]
    if as_json:
        dump(data)
        return
    print_table(
        ["id", "单位", "序列", "上级", "信息员"],
        [[d["id"], d["name"], d["series"], "、".join(d["parents"]), ", ".join(d["officers"])] for d in data],
    )


@units_app.command("import")
def units_import(file: Path, config: ConfigOpt = None) -> None:
    """Add or update units from a units.toml-style file (or .csv with the same columns)."""
    from mailbot.core.submission.units import load_units, units_from_csv

    with runtime(config) as rt:
        try:
            directory = units_from_csv(file) if file.suffix.lower() == ".csv" else load_units(file)
        except ConfigError as exc:
            raise fail(2, f"{exc.file}: {exc.key}: {exc.problem}") from exc
        rt.import_units(directory)
    typer.echo(f"imported {len(directory)} unit(s) from {file}")
