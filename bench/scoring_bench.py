"""Scoring a year: thousands of units, hundreds of thousands of ledger events, scored from scratch.

Scores are never stored (SPEC: recomputed from the ledger), so `mailbot scores`
and every bulletin pay this cost each time. The data is generated: units in the
five Guangzhou series (直报点A units credit a 部门A parent) and a year of items
with adoptions, rejections, 批示, 上级采用, 扣分 and 撤销 in realistic shares.
The baseline is one trivial pass over the events (grouping them by unit),
the least any scorer has to do.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import REPO, Row, Section, Size, Timer, log, median
from mailbot.core.review.decisions import Adopt, Decision, Instruct, Penalty, Reject, Undo, UpperAdopt
from mailbot.core.review.ledger import Event
from mailbot.core.scoring.periods import parse_period
from mailbot.core.scoring.rules import ScoringRules, load_rules
from mailbot.core.scoring.scores import ScoredItem, score_period
from mailbot.core.submission.units import Unit

TZ = ZoneInfo("Asia/Shanghai")
YEAR = 2026  # the assessment year 2026: 2025-12-01 … 2026-11-30
# Shares of the 5 series among units (Guangzhou's 130 units scaled up).
_SERIES = (("区县", 0.10), ("部门A", 0.30), ("部门B", 0.20), ("直报点A", 0.25), ("直报点B", 0.15))
_ADOPTIONS: tuple[tuple[str, str | None], ...] = (
    ("穗府信息", "标题"),
    ("穗府信息", "短波"),
    ("穗府信息", "短波"),
    ("穗府要情", None),
    ("穗府信息专报", None),
    ("穗府调研报告", "主办"),
    ("收文呈阅表", None),
)


def make_units(n: int, seed: int = 7) -> list[Unit]:
    """`n` units over the five series; each 直报点A has a 部门A parent."""
    rng = random.Random(seed)
    units: list[Unit] = []
    for series, share in _SERIES:
        for k in range(max(1, round(n * share))):
            units.append(Unit(f"{series}-{k:04d}", f"{series}单位{k:04d}", series))
    parents = [u.id for u in units if u.series == "部门A"]
    units = [
        Unit(u.id, u.name, u.series, parent=rng.choice(parents)) if u.series == "直报点A" else u
        for u in units
    ]
    return units[:n]


def make_ledger(units: list[Unit], n_events: int, seed: int = 11) -> tuple[list[ScoredItem], list[Event]]:
    """Items over the assessment year and ~`n_events` decisions on them (one reviewer mostly)."""
    rng = random.Random(seed)
    start = datetime(YEAR - 1, 12, 1, tzinfo=TZ)
    span = 364 * 86400
    items: list[ScoredItem] = []
    events: list[Event] = []
    seq = 0

    def add(item_id: str, at: datetime, decision: Decision, by: str = "editor@gz.example.org") -> None:
        nonlocal seq
        seq += 1
        events.append(Event(item_id, seq, at, by, decision))

    while len(events) < n_events:
        unit = rng.choice(units)
        received = start + timedelta(seconds=rng.randrange(span))
        item_id = f"{YEAR}-{len(items) + 1:06d}"
        items.append(ScoredItem(item_id, unit.id, received, f"{unit.name}信息{len(items)}"))
        decided = received + timedelta(hours=rng.randint(1, 96))
        roll = rng.random()
        if roll < 0.5:
            pub, grade = rng.choice(_ADOPTIONS)
            add(item_id, decided, Adopt(pub, grade))
            if rng.random() < 0.12:
                add(item_id, decided + timedelta(hours=1), Instruct("省" if pub == "穗府信息专报" else "市"))
            if rng.random() < 0.08:
                add(item_id, decided + timedelta(hours=2), UpperAdopt(rng.choice(("省", "国务院"))))
            if rng.random() < 0.03:
                add(item_id, decided + timedelta(hours=3), Undo())
        else:
            add(item_id, decided, Reject("内容不够具体"))
        if rng.random() < 0.01:
            add(item_id, decided + timedelta(days=1), Penalty(5, "约稿超时"))
    return items, events


def trivial_pass(items: list[ScoredItem], events: list[Event]) -> Counter[str | None]:
    """The baseline: one pass over the events, counting them by unit."""
    unit_of = {i.id: i.unit_id for i in items}
    return Counter(unit_of[e.item_id] for e in events)


def ledger(size: Size) -> tuple[ScoringRules, list[Unit], list[ScoredItem], list[Event]]:
    """The rules, units, items and events of one size (deterministic)."""
    rules = load_rules(REPO / "config" / "scoring.toml")
    units = make_units(size.units)
    items, events = make_ledger(units, size.events)
    return rules, units, items, events


def run(size: Size, runs: int) -> Section:
    """Score a month, a quarter and the year, `runs` times each, against one trivial pass over the events."""
    rules, units, items, events = ledger(size)
    sec = Section("scoring", f"Scoring {len(units):,} units, {len(events):,} events")
    base = []
    for _ in range(runs):
        with Timer() as t:
            trivial_pass(items, events)
        base.append(t.seconds)
    for label, what in (("2026-10", "a month"), ("2026-Q4", "a quarter"), ("2026", "the year")):
        period = parse_period(label, rules.calendar)
        times = []
        for _ in range(runs):
            with Timer() as t:
                score_period(units, items, events, rules, period)
            times.append(t.seconds)
        log(f"scoring {what}: {median(times):.2f} s")
        sec.rows.append(
            Row("scoring", f"score_period, {what} ({label})", median(times), median(base), "s", tuple(times),
                "baseline: one pass over the events")
        )  # fmt: skip
    sec.notes.append(
        f"{len(items):,} items, {len(events):,} events, {len(units):,} units "
        f"({', '.join(f'{s} {sum(1 for u in units if u.series == s)}' for s, _ in _SERIES)}); "
        "the baseline groups the events by unit in one pass."
    )
    return sec
