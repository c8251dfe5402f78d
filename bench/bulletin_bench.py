"""Bulletin rendering for thousands of units: HTML, plain text and the xlsx workbook of one month.

The rows are real `score_period` output for the scoring benchmark's generated
ledger, so the tables are as long and as varied as a large office's. The
baseline is serialising the same rows as JSON: the least any output needs.
"""

from __future__ import annotations

import json
from datetime import date

from bench.common import Row, Section, Size, Timer, median
from bench.scoring_bench import YEAR, ledger
from mailbot.core.bulletin.content import BulletinData, issue_number
from mailbot.core.bulletin.workbook import bulletin_xlsx
from mailbot.core.scoring.periods import parse_period
from mailbot.core.scoring.scores import score_period
from mailbot.shell.compose import Copies, render_html, render_text

LABEL = "2026-10"


def run(size: Size, runs: int) -> Section:
    """Render the month's bulletin `runs` times in each format."""
    rules, units, items, events = ledger(size)
    period = parse_period(LABEL, rules.calendar)
    rows = score_period(units, items, events, rules, period)
    data = BulletinData(
        office="广州市人民政府办公厅",
        title="政务信息工作通报",
        year=YEAR,
        number=issue_number(period, rules.calendar),
        period=period,
        issued=date(YEAR, 11, 1),
        rows=rows,
        series_order=[s.name for s in rules.ruleset_for(period).series],
        received=sum(1 for i in items if period.contains(i.received_at)),
        adopted=sum(r.adopted for r in rows),
    )
    base = []
    for _ in range(runs):
        with Timer() as t:
            json.dumps([(r.unit_id, r.unit_name, r.series, str(r.score), str(r.cumulative), r.rank) for r in rows],
                       ensure_ascii=False)  # fmt: skip
        base.append(t.seconds)
    sec = Section("bulletin", f"Bulletin of {LABEL} for {len(units):,} units")
    for name, fn in (
        ("render_html", render_html),
        ("render_text", render_text),
        ("bulletin_xlsx", bulletin_xlsx),
    ):
        times = []
        out: str | bytes = b""
        for _ in range(runs):
            with Timer() as t:
                out = fn(data)
            times.append(t.seconds)
        sec.rows.append(
            Row("bulletin", f"{name}, {len(out) / 1024:,.0f} KB", median(times), median(base), "s", tuple(times),
                "baseline: the rows as JSON")
        )  # fmt: skip
    # Every unit's own copy (its line first, its row highlighted): what `bulletin --send` renders.
    times = []
    for _ in range(runs):
        with Timer() as t:
            copies = Copies(data)
            size = sum(len(copies.html(r.unit_id)) + len(copies.text(r.unit_id)) for r in rows)
        times.append(t.seconds)
    sec.rows.append(
        Row("bulletin", f"every unit's copy, HTML + text: {len(rows):,} copies, {size / 2**20:,.0f} MB",
            median(times), median(base), "s", tuple(times), "baseline: the rows as JSON")
    )  # fmt: skip
    sec.notes.append(
        "Each unit's copy opens with its own line and highlights its row; `Copies` renders the bulletin "
        "once and personalises each copy by substitution (tests/shell/test_bulletin.py checks every copy equals "
        "a full rendering for that unit)."
    )
    return sec
