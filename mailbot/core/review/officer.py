"""The officer's view of their item: what their notices say (status, where adopted, reason, points)
and the change lines a notice lists, one per decision added or cancelled.

The officer hears of every decision that changes what their last notice said: the
status (已采用/未采用/待审), where the item was adopted, the reason it was rejected, and
its points. A 批示 or a regrade on an adopted item, or a 撤销 of either, changes the
points without changing the status, so the status alone cannot be the trigger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from mailbot.core.review import ledger
from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Decision,
    Forward,
    Instruct,
    Penalty,
    Reject,
    UpperAdopt,
    describe,
)
from mailbot.core.review.status import ItemStatus
from mailbot.core.scoring import scores as scoring
from mailbot.core.scoring.rules import RuleSet, ScoringRules

TOLD = frozenset({ItemStatus.PENDING, ItemStatus.ADOPTED, ItemStatus.REJECTED})
"""The statuses the officer is told of (a superseded, refused or quarantined item gets no notice)."""


@dataclass(frozen=True, slots=True)
class OfficerView:
    """What the officer's notices say of an item; a notice goes out when this changes."""

    status: str
    where: tuple[str, ...]
    reason: str
    points: Decimal | None
    # What the change lines are built from; not itself shown, so not compared.
    effective: tuple[ledger.Event, ...] = field(default=(), compare=False)
    event_points: Mapping[int, Decimal] = field(default_factory=dict, compare=False)


def officer_label(decision: Decision, rs: RuleSet) -> str:
    """A decision as an officer reads it (《穗府信息》采用（标题）, 市领导批示), names as the rules spell them."""
    match decision:
        case Adopt(publication=name, grade=grade_name):
            pub = rs.publication(name)
            grade = pub.grade(grade_name) if pub else None
            shown = pub.name if pub else (name or "")
            graded = grade.name if grade else grade_name
            return (f"《{shown}》采用" if shown else "采用") + (f"（{graded}）" if graded else "")
        case Reject(reason=reason):
            return "不采用" + (f"（{reason}）" if reason else "")
        case Instruct(level=level):
            return f"{rs.level(level) or level}领导批示"
        case UpperAdopt(level=level):
            return f"{rs.level(level) or level}采用"
        case Forward(level=level):
            return f"上报{rs.level(level) or level}"
        case Commission():
            return "约稿"
        case Penalty(reason=reason):
            return "扣分" + (f"（{reason}）" if reason else "")
    return describe(decision)


def officer_view(
    status: str, item: scoring.ScoredItem, events: Sequence[ledger.Event], rules: ScoringRules
) -> OfficerView:
    """What a notice sent now would tell the officer, from the item's events under the rules in force."""
    effective = sorted(ledger.effective_events(events), key=ledger.decision_order)
    last_reject = ledger.last_rejection(effective)
    where: dict[tuple[str, str], str] = {}
    if status == ItemStatus.ADOPTED:
        for event in effective[last_reject + 1 :]:
            d, rs = event.decision, rules.ruleset_at(event.at)
            # Keyed like scoring keys adoptions: a regrade in one publication replaces the earlier grade.
            if isinstance(d, Adopt):
                pub = rs.publication(d.publication)
                where[("pub", pub.name if pub else d.publication or "")] = officer_label(d, rs)
            elif isinstance(d, UpperAdopt):
                where[("up", rs.level(d.level) or d.level)] = officer_label(d, rs)
    rejection = effective[last_reject].decision if last_reject >= 0 else None
    reason = rejection.reason if status == ItemStatus.REJECTED and isinstance(rejection, Reject) else ""
    return OfficerView(
        status=status,
        where=tuple(where.values()),
        reason=reason,
        points=scoring.item_points(item, events, rules) if item.scored else None,
        effective=tuple(effective),
        event_points=scoring.event_points(item, events, rules),
    )


def _signed(points: Decimal) -> str:
    return f"+{scoring.format_points(points)}" if points > 0 else scoring.format_points(points)


def officer_changes(
    before: OfficerView, after: OfficerView, new_seqs: Collection[int], rules: ScoringRules
) -> list[str]:
    """One line per decision added or cancelled since `before`, with the points it earned or had earned."""
    lines: list[str] = []
    for event in after.effective:
        if event.seq in new_seqs:
            label = officer_label(event.decision, rules.ruleset_at(event.at))
            pts = after.event_points.get(event.seq, Decimal(0))
            lines.append(f"新增：{label} {_signed(pts)}分" if pts else f"新增：{label}，不计分")
    still = {e.seq for e in after.effective}
    for event in before.effective:
        if event.seq not in still:
            label = officer_label(event.decision, rules.ruleset_at(event.at))
            pts = before.event_points.get(event.seq, Decimal(0))
            lines.append(f"撤销：{label}（原计 {_signed(pts)}分）" if pts else f"撤销：{label}")
    return lines


def is_news(before: OfficerView, after: OfficerView) -> bool:
    """Whether the officer should hear of `after`: it differs from what they were told, in a status they are told of."""
    return after != before and after.status in TOLD
