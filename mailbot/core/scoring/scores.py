"""The scoring core: units, items, decisions and rules in; score rows and explanations out.

Scores are never stored or incremented: every figure is recomputed from the
ledger, so any period can be scored again at any time and every point can be
traced to the decision that earned it (`mailbot scores --explain`).

How points arise (each rule's numbers come from scoring.toml):

* An item's *total* is a function of its effective events (``_state``). The
  points of one event are what it changes in that total — the total after it
  minus the total before it, both under the rule set in force when the event
  was decided — and they count in the month of the decision. So under
  ``max`` (就高不就低) a later, higher adoption earns only the difference, a
  不采用 after an adoption takes the adoption's points back in the month of
  the 不采用, and a 批示 made before the item was adopted is credited by the
  adoption that makes it eligible.
* 撤销 is resolved first (ledger.effective_events): the cancelled decision is
  gone, so its points vanish from the month in which it was made.
* Adoptions: one per publication (a later grade for the same publication
  replaces the earlier one) and one per upper level. ``sum`` adds them; ``max``
  keeps the highest. The 约稿 bonus is per item: under ``sum`` it is the bonus
  of the highest level that adopted the item; under ``max`` it is part of
  each adoption's value (约稿 adopted by the province: its points + the
  province's 约稿 bonus) before the highest is taken.
* 批示 and 上级采用 bonuses: the first bonus rule that has the level and whose
  publications the item is adopted in; each (kind, level) once per item; a
  rule's values combine by its own ``combine`` and ``cap``. Bonuses add to the
  adoption points under both ``sum`` and ``max``: 就高不就低 is about
  publications, 批示 are 另加.
* 上报 points need no adoption; 扣分 always counts; a late 约稿 gets the
  configured penalty at the time it was received (and no 约稿 bonus).
* Dual track: a direct-report point keeps its own score; its parent is
  credited ``parent_credit`` × that score, month by month.
* Meeting a series' monthly minimum number of submissions earns points,
  capped per assessment year.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from mailbot.core.errors import MailbotError
from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Forward,
    Help,
    Instruct,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
    describe,
)
from mailbot.core.review.ledger import Event, decision_order, effective_events, last_rejection, settled_status
from mailbot.core.review.status import ItemStatus
from mailbot.core.scoring.periods import Period, month_of, months_in, year_containing
from mailbot.core.scoring.rules import ZERO, RuleSet, ScoringRules
from mailbot.core.submission.units import Unit

_RATIO = Decimal("0.0001")
SYSTEM = "系统"
_CREDIT = "双轨制计分"


class ScoringInputError(MailbotError, ValueError):
    """Raised when scoring is asked about an unknown unit or given naive datetimes."""


@dataclass(frozen=True, slots=True)
class ScoredItem:
    """What scoring needs of an item; `scored` is False for superseded, refused or quarantined items.

    `submitted` is False for a missed 约稿's penalty, which is no submission; a late 约稿's
    penalty counts on `commission_due` (the deadline), like a missed one's.
    """

    id: str
    unit_id: str | None
    received_at: datetime
    title: str
    scored: bool = True
    commissioned: bool = False
    commission_late: bool = False
    submitted: bool = True
    commission_due: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExplainLine:
    """One contribution to a unit's score: which item and decision, how many points, by which rule."""

    unit_id: str
    item_id: str | None
    title: str
    command: str
    at: datetime
    by: str
    points: Decimal
    rule: str


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """A unit's line in a period's table; `score` = `own_score` + `credited` (from direct-report points)."""

    unit_id: str
    unit_name: str
    series: str
    submitted: int
    adopted: int
    score: Decimal
    cumulative: Decimal
    target: Decimal | None
    completion: Decimal | None
    rank: int
    adoption_rate: Decimal | None
    quarter_target: Decimal | None = None
    own_score: Decimal = ZERO
    credited: Decimal = ZERO


def format_points(points: Decimal) -> str:
    """Points as people write them: 2, 0.5, -10 (no trailing zeros, no exponent)."""
    text = f"{points.normalize():f}"
    return "0" if text in ("-0", "0") else text


# ---------------------------------------------------------------- one item

_Part = tuple[Decimal, str]


@dataclass(frozen=True, slots=True)
class _Adoption:
    value: Decimal
    level: str | None  # None: not recognised by the rules, scores nothing
    text: str
    publication: str | None = None
    grade: str | None = None


class _EventPoints(NamedTuple):
    # A named tuple, not a frozen dataclass: a province's year builds 200,000 of them.
    event: Event
    parts: tuple[_Part, ...]


def _pts(points: Decimal) -> str:
    return f"{format_points(points)}分"


def _adoptions(evs: Sequence[Event], rs: RuleSet, commissioned: bool) -> dict[str, _Adoption]:
    last_reject = last_rejection(evs)
    found: dict[str, _Adoption] = {}
    for event in evs[last_reject + 1 :]:
        d = event.decision
        if isinstance(d, Adopt):
            pub = rs.publication(d.publication)
            if pub is None:
                found[f"?{d.publication}"] = _Adoption(
                    ZERO, None, f"刊物「{d.publication}」不在记分规则中，不计分"
                )
                continue
            grade = pub.grade(d.grade)
            if pub.grades and grade is None:
                found[f"?{pub.name}"] = _Adoption(ZERO, None, f"《{pub.name}》没有档次「{d.grade}」，不计分")
                continue
            label = f"《{pub.name}》采用" + (f"（{grade.name}）" if grade else "")
            value = grade.points if grade else pub.points
            if commissioned and pub.commission_points is not None:
                value, label = pub.commission_points, f"《{pub.name}》采用约稿信息"
            found.pop(f"?{pub.name}", None)
            found[f"pub:{pub.name}"] = _Adoption(
                value, pub.level, f"{label} {_pts(value)}", pub.name, grade.name if grade else None
            )
        elif isinstance(d, UpperAdopt):
            level = rs.level(d.level)
            if level is None:
                found[f"?{d.level}"] = _Adoption(ZERO, None, f"级别「{d.level}」不在记分规则中，不计分")
                continue
            value = dict(rs.upper_points).get(level, ZERO)
            note = "" if value else "（上级采用不单独计分）"
            found[f"up:{level}"] = _Adoption(value, level, f"{level}采用 {_pts(value)}{note}")
    # An adoption recorded in a publication of an upper level (采用 市府工作交流) already scores
    # that level's adoption; a bare 上级采用 of the same level for the same item is not a second one.
    named = {a.level for k, a in found.items() if k.startswith("pub:") and a.level is not None}
    for key, adoption in list(found.items()):
        if key.startswith("up:") and adoption.level in named:
            found[key] = _Adoption(ZERO, None, f"{adoption.level}采用已按该级刊物计分，不重复计分")
    return found


def _state(item: ScoredItem, evs: Sequence[Event], rs: RuleSet) -> dict[str, _Part]:
    """The item's total after `evs` (in decision order) under `rs`, as named parts."""
    parts: dict[str, _Part] = {}
    commissioned = item.commissioned or any(isinstance(e.decision, Commission) for e in evs)
    bonus_ok = commissioned and not (item.commission_late and rs.commission_bonus_on_time_only)
    adoptions = _adoptions(evs, rs, commissioned)
    real = {k: a for k, a in adoptions.items() if a.level is not None}
    for key, adoption in adoptions.items():
        if adoption.level is None:
            parts[key] = (ZERO, adoption.text)

    if real and rs.combine == "sum":
        for key, adoption in real.items():
            parts[key] = (adoption.value, adoption.text)
        top = max((a.level for a in real.values() if a.level), key=rs.level_rank)
        bonus = rs.commission_for(top) if bonus_ok else ZERO
        if bonus:
            parts["commission"] = (bonus, f"约稿信息被采用 +{_pts(bonus)}")
    elif real:
        valued = [(a.value + (rs.commission_for(a.level) if bonus_ok else ZERO), a) for a in real.values()]
        best_value, best = max(valued, key=lambda va: va[0])
        text = best.text
        if best_value != best.value:
            text += f"，约稿加分 {_pts(best_value - best.value)}"
        if len(real) > 1:
            text += "（就高不就低）"
        parts["adopt"] = (best_value, text)
        # Zero parts for the other adoptions, so that their events are explained, not just ignored.
        for key, adoption in real.items():
            if adoption is not best:
                parts[f"{key}~"] = (ZERO, f"{adoption.text}，就高不就低，不重复计分")

    pairs = {(a.publication, a.grade) for a in real.values() if a.publication is not None}
    _bonuses(evs, rs, pairs, bool(real), parts)

    forwarded: dict[str, None] = {}
    for event in evs:
        if isinstance(event.decision, Forward) and (level := rs.level(event.decision.level)):
            forwarded.setdefault(level)
    for level in forwarded:
        pts = dict(rs.forward_points).get(level, ZERO)
        if pts:
            parts[f"fwd:{level}"] = (pts, f"上报{level} +{_pts(pts)}")

    for position, event in enumerate(evs):
        d = event.decision
        if isinstance(d, Penalty):
            pts = abs(Decimal(str(d.points)))
            if not pts and d.reason:
                pts = rs.penalty(d.reason) or ZERO
            reason = f"（{d.reason}）" if d.reason else ""
            # Keyed by position, not seq: a state is then a function of the decisions alone (see _Memo).
            parts[f"pen:{position}"] = (-pts, f"扣分{reason} -{_pts(pts)}")
    return parts


def _bonuses(
    evs: Sequence[Event],
    rs: RuleSet,
    pairs: set[tuple[str, str | None]],
    adopted: bool,
    parts: dict[str, _Part],
) -> None:
    last_reject = last_rejection(evs)
    seen: set[tuple[str, str]] = set()
    won: dict[int, list[tuple[Decimal, str]]] = {}
    for i, event in enumerate(evs):
        d = event.decision
        if isinstance(d, Instruct):
            kind, label_tail = "instruct", "领导批示"
        elif isinstance(d, UpperAdopt) and i > last_reject:
            kind, label_tail = "upper", "采用加分"
        else:
            continue
        level = rs.level(d.level)
        if level is None or (kind, level) in seen:
            continue
        seen.add((kind, level))
        for idx, rule in enumerate(rs.bonuses):
            value = rule.value("instruct" if kind == "instruct" else "upper", level)
            if value is not None and rule.applies_to(pairs, adopted):
                won.setdefault(idx, []).append((value, f"{level}{label_tail}"))
                break
    for idx, values in won.items():
        rule = rs.bonuses[idx]
        if rule.combine == "sum" and rule.cap is None:
            for value, label in values:
                parts[f"bonus:{idx}:{label}"] = (value, f"{label} +{_pts(value)}")
            continue
        if rule.combine == "sum":
            total = sum((v for v, _ in values), ZERO)
            text = "、".join(f"{label} +{_pts(v)}" for v, label in values)
        else:
            total, label = max(values, key=lambda v: v[0])
            text = f"{label} {_pts(total)}"
        notes = ["按最高加分值"] if rule.combine == "max" and len(values) > 1 else []
        if rule.cap is not None:
            notes.append(f"封顶{_pts(rule.cap)}")
            total = min(total, rule.cap)
        if notes:
            text += f"（{'，'.join(notes)}）"
        parts[f"bonus:{idx}"] = (total, text)


_NO_CHANGE = {
    Reject: "不采用，不计分",
    Instruct: "批示：该条信息尚未被规定刊物采用或本规则无此级别批示加分，不计分",
    UpperAdopt: "上级采用：本规则不另计分或已计过",
    Forward: "上报：本规则不计分或已计过",
    Commission: "约稿：尚未被采用或本规则无约稿加分",
    Adopt: "采用：分值未变（已按更高分值计分）",
    Penalty: "扣分 0分",
}


_Memo = dict[tuple[object, ...], tuple[tuple[_Part, ...], ...]]
"""Points of each event by the item's decision history: a state depends only on the item's
约稿 flags, its decisions in order and the rule set of each, and most items share a
history with thousands of others (one 采用 in one publication, one 不采用), so a
province's year replays a few hundred distinct histories instead of 200,000."""


def _effective(events: Sequence[Event]) -> list[Event]:
    if len(events) == 1:  # most items: one decision, nothing to resolve or order
        return [] if isinstance(events[0].decision, Undo | Help) else [events[0]]
    return sorted(effective_events(events), key=decision_order)


def _item_points(
    item: ScoredItem, effective: list[Event], rules: ScoringRules, memo: _Memo | None = None
) -> list[_EventPoints]:
    """Each effective event of one item (`_effective`) with the points it changed, by decision time."""
    evs = effective
    if item.commission_late:
        rs = rules.ruleset_at(item.received_at)
        name = rs.late_commission_penalty
        pts = rs.penalty(name) if name else None
        if name and pts:
            # On the deadline, where the penalty for a 约稿 not yet answered already stood: an
            # answer that comes later must not move points out of a month already published.
            when = item.commission_due or item.received_at
            late = Event(item.id, -1, when, SYSTEM, Penalty(float(pts), name))
            evs = sorted([late, *evs], key=decision_order)
    if not evs:
        return []
    if len(rules.rulesets) == 1:  # one rule set in force: it need not be part of the key
        sets = [rules.rulesets[0]] * len(evs)
        key: tuple[object, ...] = (item.commissioned, item.commission_late, *(e.decision for e in evs))
    else:
        sets = [rules.ruleset_at(e.at) for e in evs]
        key = (
            item.commissioned,
            item.commission_late,
            *((e.decision, id(rs)) for e, rs in zip(evs, sets, strict=True)),
        )
    changes = memo.get(key) if memo is not None else None
    if changes is None:
        changes = _changes(item, evs, sets)
        if memo is not None:
            memo[key] = changes
    return [_EventPoints(event, parts) for event, parts in zip(evs, changes, strict=True)]


def _changes(item: ScoredItem, evs: list[Event], sets: list[RuleSet]) -> tuple[tuple[_Part, ...], ...]:
    """What each event changed in the item's total, under the rule set in force at the event."""
    out: list[tuple[_Part, ...]] = []
    states: dict[tuple[int, int], dict[str, _Part]] = {}

    def state(k: int, rs: RuleSet) -> dict[str, _Part]:
        # The state after the first k events under rule set rs; "after" of one event is "before" of the next.
        if k == 0:
            return {}  # no decision yet: nothing scored (the common case for a new item)
        key = (k, id(rs))
        if key not in states:
            states[key] = _state(item, evs[:k], rs)
        return states[key]

    # What each part of the total was earned with. A part keeps the value of the rules under
    # which it was earned (SPEC §4: a period is scored by the rules in force then); only a part
    # that this event changes is settled again, against what it was earned with, so a 不采用
    # after new rules takes back exactly what the adoption earned under the old ones.
    earned: dict[str, _Part] = {}
    for k, (event, rs) in enumerate(zip(evs, sets, strict=True)):
        before = state(k, rs)
        after = state(k + 1, rs)
        changed: list[_Part] = []
        for key in dict.fromkeys([*after, *before]):
            now = after.get(key, (ZERO, ""))[0]
            if now == before.get(key, (ZERO, ""))[0] and (key in after) == (key in before):
                continue  # this event did not touch the part: it keeps what it earned
            delta = now - earned.get(key, (ZERO, ""))[0]
            if delta:
                text = after[key][1] if key in after else f"撤回：{earned.get(key, before[key])[1]}"
                changed.append((delta, text))
            if key in after:
                earned[key] = after[key]
            else:
                earned.pop(key, None)
        if not changed:
            new = [after[k2][1] for k2 in after if k2 not in before]
            changed.append((ZERO, new[0] if new else _NO_CHANGE.get(type(event.decision), "不计分")))
        out.append(tuple(changed))
    return tuple(out)


# ---------------------------------------------------------------- periods and units


@dataclass(slots=True)
class _Book:
    """Everything computed once per call: item lines by unit, items by unit, and caches over them."""

    rules: ScoringRules
    units: dict[str, Unit]
    items: dict[str, list[ScoredItem]]
    # Per unit, (when, points, item, event, rule) of each decision line: ExplainLines are only
    # built for `explain`; a score needs the points and times alone.
    lines: dict[str, list[tuple[datetime, Decimal, ScoredItem, Event, str]]]
    adopted_at: dict[str, list[tuple[str, datetime]]]
    children: dict[str, list[Unit]] = field(default_factory=dict)
    # Per unit: its lines' times in order and the running sum of their points, so that a
    # period's sum is two bisections (score_period asks for every unit, month and child).
    _sums: dict[str, tuple[list[datetime], list[Decimal]]] = field(default_factory=dict)
    _months: dict[tuple[datetime, datetime], list[Period]] = field(default_factory=dict)
    _years: dict[tuple[datetime, datetime], list[Period]] = field(default_factory=dict)
    _minimum: dict[tuple[str, str], list[ExplainLine]] = field(default_factory=dict)

    def months(self, start: datetime, end: datetime) -> list[Period]:
        """The calendar months of [start, end) (cached: every unit asks for the same few)."""
        key = (start, end)
        if key not in self._months:
            self._months[key] = months_in(Period("month", "", start, end))
        return self._months[key]

    def years(self, start: datetime, end: datetime) -> list[Period]:
        """The assessment years that [start, end) touches, in order (cached like `months`)."""
        key = (start, end)
        if key not in self._years:
            found = {year_containing(m, self.rules.calendar) for m in self.months(start, end)}
            self._years[key] = sorted(found, key=lambda y: y.start)
        return self._years[key]

    def line_sum(self, unit_id: str, start: datetime, end: datetime) -> Decimal:
        """The points of the unit's decision lines dated in [start, end)."""
        if unit_id not in self._sums:
            lines = sorted(self.lines.get(unit_id, []), key=lambda ln: ln[0])
            running, total = [ZERO], ZERO
            for ln in lines:
                total += ln[1]
                running.append(total)
            self._sums[unit_id] = ([ln[0] for ln in lines], running)
        ats, running = self._sums[unit_id]
        return running[bisect_left(ats, end)] - running[bisect_left(ats, start)]


def _book(
    units: Iterable[Unit], items: Iterable[ScoredItem], events: Iterable[Event], rules: ScoringRules
) -> _Book:
    unit_map = {u.id: u for u in units}
    by_item: dict[str, list[Event]] = {}
    for event in events:
        if event.at.tzinfo is None:
            raise ScoringInputError(
                f"事件时间必须带时区：{event.item_id} #{event.seq} {event.at.isoformat()}"
            )
        by_item.setdefault(event.item_id, []).append(event)
    book = _Book(rules, unit_map, {}, {}, {})
    for unit in sorted(unit_map.values(), key=lambda u: u.id):
        for parent in unit.parents:
            book.children.setdefault(parent, []).append(unit)
    memo: _Memo = {}
    for item in sorted(items, key=lambda i: i.id):
        if item.received_at.tzinfo is None:
            raise ScoringInputError(f"收件时间必须带时区：{item.id} {item.received_at.isoformat()}")
        if not item.scored or item.unit_id not in unit_map:
            continue
        uid = item.unit_id
        if item.submitted:  # what counts as 报送数 and toward the monthly minimum
            book.items.setdefault(uid, []).append(item)
        effective = _effective(by_item.get(item.id, ()))
        lines = book.lines.setdefault(uid, [])
        for ep in _item_points(item, effective, rules, memo):
            for points, rule in ep.parts:
                lines.append((ep.event.at, points, item, ep.event, rule))
        if settled_status(effective) == ItemStatus.ADOPTED:
            for e in effective[last_rejection(effective) + 1 :]:
                if isinstance(e.decision, Adopt | UpperAdopt):
                    book.adopted_at.setdefault(uid, []).append((item.id, e.at))
    return book


def _year_minimum_lines(book: _Book, unit: Unit, year: Period) -> list[ExplainLine]:
    """Points for meeting the monthly minimum count in each month of an assessment year, within its cap."""
    key = (unit.id, year.label)
    if key in book._minimum:
        return book._minimum[key]
    lines: list[ExplainLine] = []
    counts: dict[datetime, int] | None = None
    awarded = ZERO
    for month in book.months(year.start, year.end):
        sr = book.rules.ruleset_for(month).series_rules(unit.series)
        if sr is None or not sr.month_min or not sr.month_min_points:
            continue
        if counts is None:
            counts = {}
            for i in book.items.get(unit.id, []):
                if year.contains(i.received_at):
                    first = month_of(i.received_at, book.rules.calendar).start
                    counts[first] = counts.get(first, 0) + 1
        count = counts.get(month.start, 0)
        if count < sr.month_min:
            continue
        award = sr.month_min_points
        cap = sr.month_min_points_year_cap
        if cap is not None:
            award = max(ZERO, min(award, cap - awarded))
        awarded += award
        if award:
            cap_note = f"（全年封顶{_pts(cap)}）" if cap is not None else ""
            lines.append(
                ExplainLine(
                    unit.id,
                    None,
                    f"{month.title()}报送{count}条",
                    "月度报送达标",
                    month.start,
                    SYSTEM,
                    award,
                    f"每月报送不少于{sr.month_min}条 +{_pts(award)}{cap_note}",
                )
            )
    book._minimum[key] = lines
    return lines


def _month_min_lines(book: _Book, unit: Unit, start: datetime, end: datetime) -> list[ExplainLine]:
    """Points for meeting the monthly minimum count in each month of [start, end), within the yearly cap."""
    return [
        ln
        for year in book.years(start, end)
        for ln in _year_minimum_lines(book, unit, year)
        if start <= ln.at < end
    ]


def _own_lines(book: _Book, unit: Unit, start: datetime, end: datetime) -> list[ExplainLine]:
    own = [
        ExplainLine(unit.id, item.id, item.title, describe(event.decision), at, event.by, points, rule)
        for at, points, item, event, rule in book.lines.get(unit.id, [])
        if start <= at < end
    ]
    return own + _month_min_lines(book, unit, start, end)


def _own_sum(book: _Book, unit: Unit, start: datetime, end: datetime) -> Decimal:
    """The points of `_own_lines` (same period), without building the lines."""
    minimum = sum((ln.points for ln in _month_min_lines(book, unit, start, end)), ZERO)
    return book.line_sum(unit.id, start, end) + minimum


def _credit_shares(
    book: _Book, unit: Unit, start: datetime, end: datetime
) -> list[tuple[Unit, Decimal, Decimal]]:
    """(child, fraction, the child's own score) for each direct-report point of `unit`, month by month."""
    out: list[tuple[Unit, Decimal, Decimal]] = []
    for child in book.children.get(unit.id, []):
        shares: dict[Decimal, Decimal] = {}
        for month in book.months(start, end):
            sr = book.rules.ruleset_for(month).series_rules(child.series)
            if sr is None or not sr.parent_credit:
                continue
            score = _own_sum(book, child, month.start, month.end)
            shares[sr.parent_credit] = shares.get(sr.parent_credit, ZERO) + score
        out.extend((child, fraction, score) for fraction, score in shares.items())
    return out


def _credit_lines(book: _Book, unit: Unit, start: datetime, end: datetime) -> list[ExplainLine]:
    """The parent's share of each direct-report point's own score, month by month."""
    lines: list[ExplainLine] = []
    for child, fraction, score in _credit_shares(book, unit, start, end):
        percent = format_points(fraction * 100)
        lines.append(
            ExplainLine(
                unit.id,
                None,
                f"直报点 {child.name} 得分 {_pts(score)}",
                _CREDIT,
                start,
                SYSTEM,
                fraction * score,
                f"直报点 {child.name} 得分的{percent}%",
            )
        )
    return lines


def _credit_sum(book: _Book, unit: Unit, start: datetime, end: datetime) -> Decimal:
    return sum((fraction * score for _, fraction, score in _credit_shares(book, unit, start, end)), ZERO)


def _unit_lines(book: _Book, unit: Unit, start: datetime, end: datetime) -> list[ExplainLine]:
    return _own_lines(book, unit, start, end) + _credit_lines(book, unit, start, end)


def _ratio(num: Decimal, den: Decimal | None) -> Decimal | None:
    if not den:
        return None
    return (num / den).quantize(_RATIO)


def score_period(
    units: Iterable[Unit],
    items: Iterable[ScoredItem],
    events: Iterable[Event],
    rules: ScoringRules,
    period: Period,
) -> list[ScoreRow]:
    """Every unit's row for `period`, grouped by series (in the rules' order) and ranked within it."""
    book = _book(units, items, events, rules)
    rs = rules.ruleset_for(period)
    year = year_containing(period, rules.calendar)
    rows: list[ScoreRow] = []
    for unit in book.units.values():
        own = _own_sum(book, unit, period.start, period.end)
        credited = _credit_sum(book, unit, period.start, period.end)
        cumulative = _own_sum(book, unit, year.start, period.end) + _credit_sum(
            book, unit, year.start, period.end
        )
        submitted = sum(1 for i in book.items.get(unit.id, []) if period.contains(i.received_at))
        adopted = len({iid for iid, at in book.adopted_at.get(unit.id, []) if period.contains(at)})
        sr = rs.series_rules(unit.series)
        target = sr.year_target if sr else None
        rows.append(
            ScoreRow(
                unit_id=unit.id,
                unit_name=unit.name,
                series=unit.series,
                submitted=submitted,
                adopted=adopted,
                score=own + credited,
                cumulative=cumulative,
                target=target,
                completion=_ratio(cumulative, target),
                rank=0,
                adoption_rate=_ratio(Decimal(adopted), Decimal(submitted)),
                quarter_target=sr.quarter_target if sr else None,
                own_score=own,
                credited=credited,
            )
        )
    return _ranked(rows, [s.name for s in rs.series], list(book.units))


def _ranked(rows: list[ScoreRow], series_order: list[str], unit_order: list[str]) -> list[ScoreRow]:
    """Rank within each series by score, equal scores sharing a rank (1, 1, 3)."""
    order = {name: i for i, name in enumerate(series_order)}
    for row in rows:
        order.setdefault(row.series, len(order))
    position = {uid: i for i, uid in enumerate(unit_order)}
    out: list[ScoreRow] = []
    for series in sorted({r.series for r in rows}, key=lambda s: order[s]):
        group = sorted((r for r in rows if r.series == series), key=lambda r: (-r.score, position[r.unit_id]))
        rank, previous = 0, None
        for place, row in enumerate(group, start=1):
            if row.score != previous:
                rank, previous = place, row.score
            out.append(
                ScoreRow(
                    row.unit_id,
                    row.unit_name,
                    row.series,
                    row.submitted,
                    row.adopted,
                    row.score,
                    row.cumulative,
                    row.target,
                    row.completion,
                    rank,
                    row.adoption_rate,
                    row.quarter_target,
                    row.own_score,
                    row.credited,
                )
            )
    return out


def explain(
    unit_id: str,
    units: Iterable[Unit],
    items: Iterable[ScoredItem],
    events: Iterable[Event],
    rules: ScoringRules,
    period: Period,
) -> list[ExplainLine]:
    """Every line behind `unit_id`'s score for `period`; their points sum to the row's score."""
    book = _book(units, items, events, rules)
    unit = book.units.get(unit_id)
    if unit is None:
        raise ScoringInputError(f"未知的单位：{unit_id}")
    lines = _unit_lines(book, unit, period.start, period.end)
    # Credits from direct-report points close the list, after the unit's own decisions.
    return sorted(lines, key=lambda ln: (ln.command == _CREDIT, ln.at, ln.item_id or "", ln.command))


def month_label(moment: datetime, rules: ScoringRules) -> str:
    """The month label (2026-10) in which a decision made at `moment` counts."""
    return month_of(moment, rules.calendar).label


def item_points(item: ScoredItem, events: Iterable[Event], rules: ScoringRules) -> Decimal:
    """The item's points now: the sum of what each of its effective events earned."""
    if not item.scored:
        return ZERO
    return sum((p for ep in _item_points(item, _effective(list(events)), rules) for p, _ in ep.parts), ZERO)


def event_points(item: ScoredItem, events: Iterable[Event], rules: ScoringRules) -> dict[int, Decimal]:
    """What each effective event of one item earned, by event seq (cancelled events are absent)."""
    if not item.scored:
        return {}
    return {
        ep.event.seq: sum((p for p, _ in ep.parts), ZERO)
        for ep in _item_points(item, _effective(list(events)), rules)
        if ep.event.seq >= 0
    }
