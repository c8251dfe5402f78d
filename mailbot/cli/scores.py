"""`mailbot scores`: every unit's score for an assessment period, or what lies behind one unit's."""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer

from mailbot.cli.common import ConfigOpt, JsonOpt, clip, dump, fail, print_table, runtime


def scores(
    period: Annotated[str, typer.Option("--period", help="2026-10 | 2026-Q1 | 2026")],
    as_json: JsonOpt = False,
    explain: Annotated[
        str | None,
        typer.Option("--explain", help="unit id or name: list every item and event behind its score"),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Scores of every unit for an assessment period, ranked within each series."""
    from mailbot.app import queries
    from mailbot.app.scorebook import as_number
    from mailbot.core.scoring.periods import PeriodError, parse_period
    from mailbot.core.scoring.scores import format_points

    with runtime(config) as rt:
        try:
            p = parse_period(period, rt.rules.calendar)
        except PeriodError as exc:
            raise fail(2, f"--period: {exc}") from exc
        if explain:
            unit = rt.directory().get(explain) or rt.directory().match(explain)
            if unit is None:
                raise fail(2, f"--explain: no unit {explain!r}")
            lines = queries.explanation(rt, unit.id, p)
            if as_json:
                dump(
                    [
                        {
                            "unit": ln.unit_id,
                            "item": ln.item_id,
                            "title": ln.title,
                            "command": ln.command,
                            "at": ln.at.astimezone(rt.config.tz).isoformat(),
                            "by": ln.by,
                            "points": as_number(ln.points),
                            "rule": ln.rule,
                        }
                        for ln in lines
                    ]
                )
                return
            typer.echo(f"{unit.name}（{unit.series}）{p.label}")
            print_table(
                ["时间", "信息", "标题", "决定", "得分", "依据"],
                [
                    [
                        ln.at.astimezone(rt.config.tz).strftime("%Y-%m-%d %H:%M"),
                        ln.item_id or "",
                        clip(ln.title, 24),
                        ln.command,
                        format_points(ln.points),
                        ln.rule,
                    ]
                    for ln in lines
                ],
            )
            total = sum((ln.points for ln in lines), start=Decimal(0))
            typer.echo(f"合计 {format_points(total)} 分")
            return
        rows = queries.score_rows(rt, p)
    data = [
        {
            "unit": r.unit_id,
            "unit_name": r.unit_name,
            "series": r.series,
            "submitted": r.submitted,
            "adopted": r.adopted,
            "score": as_number(r.score),
            "cumulative": as_number(r.cumulative),
            "target": as_number(r.target),
            "completion": as_number(r.completion),
            "rank": r.rank,
            "adoption_rate": as_number(r.adoption_rate),
        }
        for r in rows
    ]
    if as_json:
        dump(data)
        return
    print_table(
        ["序列", "排名", "单位", "报送", "采用", "本期得分", "累计得分", "年度指标", "完成率"],
        [
            [
                d["series"],
                d["rank"],
                d["unit_name"],
                d["submitted"],
                d["adopted"],
                d["score"],
                d["cumulative"],
                "" if d["target"] is None else d["target"],
                "" if d["completion"] is None else f"{float(d['completion']) * 100:.0f}%",
            ]
            for d in data
        ],
    )
