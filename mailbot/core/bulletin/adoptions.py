"""Which of a period's decisions the bulletin lists, and as what: adoptions, 批示, upper-office adoptions.

An adoption in an upper office's own publication (省专报信息, 国办要情 …) is an upper-office
adoption as much as a 上级采用 reply, and the bulletin lists and counts it as one too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from mailbot.core.bulletin.content import AdoptedEntry, InstructionEntry, UpperEntry
from mailbot.core.review import ledger
from mailbot.core.review.decisions import Adopt, Instruct, UpperAdopt
from mailbot.core.review.status import UNSCORED
from mailbot.core.scoring.periods import Period
from mailbot.core.scoring.rules import RuleSet, ScoringRules


@dataclass(frozen=True, slots=True)
class Listed:
    """An item as the bulletin names it."""

    item_id: str
    unit_name: str
    title: str
    status: str


@dataclass(frozen=True, slots=True)
class Entries:
    """The period's decision lists, in the order the decisions took effect."""

    adopted: list[AdoptedEntry] = field(default_factory=list)
    instructions: list[InstructionEntry] = field(default_factory=list)
    uppers: list[UpperEntry] = field(default_factory=list)


def upper_level(adopt: Adopt, rs: RuleSet, default_publication: str) -> str | None:
    """The upper office whose publication adopted the item (its level: 省, 国务院), or None.

    None for a publication of the office's own level or one the rules do not know. An adoption
    naming no publication is in `default_publication`.
    """
    pub = rs.publication(adopt.publication or default_publication)
    return pub.level if pub is not None and rs.level_rank(pub.level) > 0 else None


def entries(
    events: Iterable[ledger.Event],
    items: Mapping[str, Listed],
    rules: ScoringRules,
    period: Period,
    points: Callable[[str], Mapping[int, float]],
) -> Entries:
    """The adoptions, 批示 and upper-office adoptions in force that were decided within `period`.

    `events` are the whole ledger (a 撤销 after the period still cancels); decisions on items
    not in `items`, superseded, refused or quarantined are left out. `points(item_id)` gives
    the points each of the item's events earned, by event seq.
    """
    start, end = period.start.astimezone(dt.UTC), period.end.astimezone(dt.UTC)
    live = [e for e in ledger.effective_events(events) if start <= e.at.astimezone(dt.UTC) < end]
    default_pub = rules.ruleset_for(period).default_publication or ""
    cache: dict[str, Mapping[int, float]] = {}
    out = Entries()
    for e in sorted(live, key=ledger.decision_order):
        item = items.get(e.item_id)
        if item is None or item.status in UNSCORED:
            continue
        d = e.decision
        if isinstance(d, Adopt):
            level = upper_level(d, rules.ruleset_at(e.at), default_pub)
            if level is not None:
                out.uppers.append(UpperEntry(item.item_id, item.unit_name, item.title, level, e.at))
            if item.item_id not in cache:
                cache[item.item_id] = points(item.item_id)
            pts = cache[item.item_id].get(e.seq, 0.0)
            out.adopted.append(
                AdoptedEntry(
                    item.item_id,
                    item.unit_name,
                    item.title,
                    d.publication or default_pub,
                    d.grade,
                    Decimal(str(pts)),
                    e.at,
                )
            )
        elif isinstance(d, Instruct):
            out.instructions.append(InstructionEntry(item.item_id, item.unit_name, item.title, d.level, e.at))
        elif isinstance(d, UpperAdopt):
            out.uppers.append(UpperEntry(item.item_id, item.unit_name, item.title, d.level, e.at))
    return out
