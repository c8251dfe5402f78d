"""Properties of scoring that must hold for any ledger (hypothesis).

Scoring is a pure function of units, items, events and rules: it must not
depend on the order of the event list, must give the same rows twice, must
split a quarter exactly into its months, must credit a parent exactly its
share, and 就高不就低 must never give more than 分别计分.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Decision,
    Forward,
    Help,
    Instruct,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
)
from mailbot.core.review.ledger import Event
from mailbot.core.scoring.periods import months_in, parse_period, quarter_period, year_period
from mailbot.core.scoring.rules import ScoringRules, load_rules, rules_from_text
from mailbot.core.scoring.scores import ScoredItem, explain, item_points, score_period
from mailbot.core.submission.units import Unit

ROOT = Path(__file__).resolve().parents[2]
GZ_TEXT = (ROOT / "config" / "scoring.toml").read_text(encoding="utf-8")
CITY_TEXT = (ROOT / "config" / "profiles" / "city.toml").read_text(encoding="utf-8")
GZ = load_rules(ROOT / "config" / "scoring.toml")
GZ_MAX = rules_from_text(GZ_TEXT.replace('combine = "sum"', 'combine = "max"'))
CITY = rules_from_text(CITY_TEXT)
CITY_SUM = rules_from_text(CITY_TEXT.replace('combine = "max"', 'combine = "sum"'))

UNITS = {
    "gz": [
        Unit("yuexiu", "越秀区政府", "区县"),
        Unit("haizhu", "海珠区政府", "区县"),
        Unit("dishui", "市地税局", "部门A"),
        Unit("byds", "白云区地税局", "直报点A", parent="dishui"),
    ],
    "city": [
        Unit("xa", "甲县人民政府", "县区A"),
        Unit("xb", "乙县人民政府", "县区A"),
        Unit("sa", "市发展改革委", "市直A"),
        Unit("zd", "甲县某镇直报点", "直报点", parent="xa"),
    ],
}
PAIRS = {"gz": (GZ, GZ_MAX), "city": (CITY_SUM, CITY)}  # (sum, max) versions of the same rules
CHILD = {"gz": ("byds", "dishui"), "city": ("zd", "xa")}
REVIEWERS = ["a@office.gov.cn", "b@office.gov.cn"]


def decisions(rules: ScoringRules) -> st.SearchStrategy[Decision]:
    rs = rules.rulesets[0]
    adopts = [Adopt(p.name, g.name) for p in rs.publications for g in p.grades] + [
        Adopt(p.name) for p in rs.publications if not p.grades
    ]
    levels = [*rs.levels, "国办"]
    return st.one_of(
        st.sampled_from(adopts),
        st.builds(Instruct, st.sampled_from(levels)),
        st.builds(UpperAdopt, st.sampled_from(levels[1:])),
        st.builds(Forward, st.sampled_from(levels[1:])),
        st.just(Commission()),
        st.builds(Penalty, st.sampled_from([0.5, 1, 5, 10]), st.sampled_from(["", "迟报", "上级批评"])),
        st.just(Reject("重复")),
        st.just(Undo()),
        st.just(Help()),
    )


DECISIONS = {"gz": decisions(GZ), "city": decisions(CITY)}


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[str, list[ScoredItem], list[Event]]:
    office = draw(st.sampled_from(["gz", "city"]))
    rules = PAIRS[office][0]
    year = year_period(2026, rules.calendar)
    units = UNITS[office]

    def moment() -> datetime:
        minutes = draw(st.integers(0, int((year.end - year.start).total_seconds() // 60) - 1))
        return year.start + timedelta(minutes=minutes)

    items = [
        ScoredItem(
            f"2026-{n:04d}",
            draw(st.sampled_from([u.id for u in units])),
            moment(),
            f"信息{n}",
            scored=draw(st.booleans() | st.just(True)),
            commissioned=draw(st.booleans()),
            commission_late=draw(st.booleans()),
        )
        for n in range(1, draw(st.integers(1, 6)) + 1)
    ]
    events = [
        Event(
            draw(st.sampled_from([i.id for i in items])),
            seq,
            moment(),
            draw(st.sampled_from(REVIEWERS)),
            draw(DECISIONS[office]),
        )
        for seq in range(1, draw(st.integers(0, 25)) + 1)
    ]
    return office, items, events


def table(
    office: str, items: list[ScoredItem], events: list[Event], label: str, rules: ScoringRules | None = None
) -> dict[str, Decimal]:
    rules = rules or PAIRS[office][0]
    period = parse_period(label, rules.calendar)
    return {r.unit_id: r.score for r in score_period(UNITS[office], items, events, rules, period)}


@settings(max_examples=60, deadline=None)
@given(ledgers(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_event_order(
    data: tuple[str, list[ScoredItem], list[Event]], rnd: object
) -> None:
    office, items, events = data
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    rules = PAIRS[office][0]
    period = parse_period("2026", rules.calendar)
    units = UNITS[office]
    assert score_period(units, items, events, rules, period) == score_period(
        units, items[::-1], shuffled, rules, period
    )
    for unit in units:
        assert explain(unit.id, units, items, events, rules, period) == explain(
            unit.id, units, items, shuffled, rules, period
        )


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_recomputing_gives_identical_rows(data: tuple[str, list[ScoredItem], list[Event]]) -> None:
    office, items, events = data
    rules = PAIRS[office][0]
    period = parse_period("2026-Q2", rules.calendar)
    first = score_period(UNITS[office], items, events, rules, period)
    second = score_period(UNITS[office], items, events, rules, period)
    assert first == second


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_max_never_exceeds_sum_over_the_year(data: tuple[str, list[ScoredItem], list[Event]]) -> None:
    office, items, events = data
    sum_rules, max_rules = PAIRS[office]
    summed = table(office, items, events, "2026", sum_rules)
    maxed = table(office, items, events, "2026", max_rules)
    for unit, score in maxed.items():
        assert score <= summed[unit]


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_months_add_up_to_quarters_and_quarters_to_the_year(
    data: tuple[str, list[ScoredItem], list[Event]],
) -> None:
    office, items, events = data
    rules = PAIRS[office][0]
    year = table(office, items, events, "2026")
    quarter_totals = {u: Decimal(0) for u in year}
    for q in range(1, 5):
        quarter = quarter_period(2026, q, rules.calendar)
        q_scores = table(office, items, events, quarter.label)
        month_totals = {u: Decimal(0) for u in year}
        for month in months_in(quarter):
            for unit, score in table(office, items, events, month.label).items():
                month_totals[unit] += score
        assert month_totals == q_scores
        for unit, score in q_scores.items():
            quarter_totals[unit] += score
    assert quarter_totals == year


@settings(max_examples=60, deadline=None)
@given(ledgers(), st.integers(1, 12))
def test_parent_is_credited_exactly_its_share_of_the_child(
    data: tuple[str, list[ScoredItem], list[Event]], month_index: int
) -> None:
    office, items, events = data
    rules = PAIRS[office][0]
    month = months_in(year_period(2026, rules.calendar))[month_index - 1]
    rows = {r.unit_id: r for r in score_period(UNITS[office], items, events, rules, month)}
    child, parent = CHILD[office]
    series = rules.ruleset_for(month).series_rules(rows[child].series)
    assert series is not None
    assert rows[parent].credited == series.parent_credit * rows[child].score
    assert rows[parent].score == rows[parent].own_score + rows[parent].credited
    assert rows[child].score == rows[child].own_score


@settings(max_examples=40, deadline=None)
@given(ledgers())
def test_explanation_lines_sum_to_the_score(data: tuple[str, list[ScoredItem], list[Event]]) -> None:
    office, items, events = data
    rules = PAIRS[office][0]
    for label in ("2026-Q1", "2026"):
        period = parse_period(label, rules.calendar)
        for row in score_period(UNITS[office], items, events, rules, period):
            lines = explain(row.unit_id, UNITS[office], items, events, rules, period)
            assert sum((ln.points for ln in lines), Decimal(0)) == row.score


@settings(max_examples=60, deadline=None)
@given(ledgers(), st.lists(st.booleans(), min_size=6, max_size=6))
def test_each_item_scores_its_own_history_among_lookalikes(
    data: tuple[str, list[ScoredItem], list[Event]], flips: list[bool]
) -> None:
    # score_period replays each distinct decision history once and reuses the result for every
    # item that shares it: a copy of an item (same decisions, other id, seqs and reviewers) must
    # score like the original, and a copy whose 约稿 flags differ must score on its own flags.
    office, items, events = data
    rules = PAIRS[office][0]
    copies, copied_events = [], []
    for n, (item, flip) in enumerate(zip(items, flips, strict=False)):
        copy = ScoredItem(
            f"2026-9{n:03d}",
            item.unit_id,
            item.received_at,
            item.title,
            scored=item.scored,
            commissioned=item.commissioned != flip,
            commission_late=item.commission_late,
        )
        copies.append(copy)
        copied_events += [
            Event(copy.id, 1000 + e.seq, e.at, e.by.upper(), e.decision) for e in events if e.item_id == item.id
        ]
    all_items, all_events = items + copies, events + copied_events
    year = parse_period("2026", rules.calendar)
    earned: dict[str, Decimal] = {}
    for unit in UNITS[office]:
        for ln in explain(unit.id, UNITS[office], all_items, all_events, rules, year):
            if ln.item_id is not None:
                earned[ln.item_id] = earned.get(ln.item_id, Decimal(0)) + ln.points
    for item in all_items:
        alone = item_points(item, [e for e in all_events if e.item_id == item.id], rules)
        assert earned.get(item.id, Decimal(0)) == alone, item


def _split_in_june(text: str) -> ScoringRules:
    """The same rules, written as two rule sets: the second, identical, in force from 2026-06-01."""
    head, ruleset = text.split("[[ruleset]]\n", 1)
    first = ruleset.split("effective_from = ", 1)[1].split("\n", 1)[0]
    again = ruleset.replace(f"effective_from = {first}", "effective_from = 2026-06-01", 1)
    return rules_from_text(f"{head}[[ruleset]]\n{ruleset}[[ruleset]]\n{again}")


SPLIT = {"gz": _split_in_june(GZ_TEXT), "city": _split_in_june(CITY_TEXT.replace('combine = "max"', 'combine = "sum"'))}


@settings(max_examples=60, deadline=None)
@given(ledgers())
def test_a_new_rule_set_with_the_same_figures_changes_no_score(
    data: tuple[str, list[ScoredItem], list[Event]],
) -> None:
    # Points earned under one set are kept when the next comes into force; with equal figures
    # nothing may move, whichever month a decision or its reversal falls in.
    office, items, events = data
    assert len(SPLIT[office].rulesets) == 2
    for label in ("2026-05", "2026-06", "2026-Q3", "2026"):
        assert table(office, items, events, label, SPLIT[office]) == table(office, items, events, label)
