"""The event ledger: every reviewer decision on an item, in recording order.

Decisions are never edited in place. 撤销 is itself an event that cancels an
earlier one, so the effective history (and from it the item's status and its
points) is always recomputed from the full ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from mailbot.core.review.decisions import Adopt, Decision, Help, Reject, Undo, UpperAdopt
from mailbot.core.review.status import ItemStatus


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded decision: `seq` orders recording, `at` (tz-aware) is when it counts."""

    item_id: str
    seq: int
    at: datetime
    by: str
    decision: Decision


def _order(event: Event) -> tuple[int, str]:
    # seq is unique within an item (the store's event id; synthetic penalties use negative
    # numbers), so (seq, item) is a total order. Cheap on purpose: a province's year sorts
    # hundreds of thousands of events.
    return (event.seq, event.item_id)


def effective_events(events: Iterable[Event]) -> list[Event]:
    """The events still in force, by seq: each 撤销 cancels its author's latest live decision on the item.

    An Undo with nothing left to cancel does nothing; Undo and Help events
    themselves are never in the result.
    """
    ordered = sorted(events, key=_order)
    if not any(isinstance(e.decision, Undo | Help) for e in ordered):
        return ordered  # nothing to resolve: the common case, and hot when a year is scored
    live: dict[tuple[str, str], list[Event]] = {}
    cancelled: set[int] = set()
    for event in ordered:
        key = (event.item_id, event.by.strip().lower())
        if isinstance(event.decision, Undo):
            stack = live.get(key)
            if stack:
                cancelled.add(id(stack.pop()))
        elif not isinstance(event.decision, Help):
            live.setdefault(key, []).append(event)
    return [e for e in ordered if not isinstance(e.decision, Undo | Help) and id(e) not in cancelled]


def decision_order(event: Event) -> tuple[datetime, int, str]:
    """Sort key for when decisions take effect: decision time, then recording order."""
    return (event.at, event.seq, event.item_id)


def item_status(events: Iterable[Event]) -> ItemStatus:
    """PENDING, ADOPTED or REJECTED (status.IN_REVIEW) for one item's events (Undo already in the list is resolved).

    The latest adoption (本级 or 上级) or rejection by decision time wins.
    批示, 上报, 约稿 and 扣分 never change the status: a 批示 on an item nobody
    adopted leaves it pending, so that an editor still decides on it.
    """
    return settled_status(sorted(effective_events(events), key=decision_order))


def settled_status(effective: Iterable[Event]) -> ItemStatus:
    """The status that effective events, already in decision order, leave an item in."""
    status = ItemStatus.PENDING
    for event in effective:
        if isinstance(event.decision, Adopt | UpperAdopt):
            status = ItemStatus.ADOPTED
        elif isinstance(event.decision, Reject):
            status = ItemStatus.REJECTED
    return status


def last_rejection(effective: Sequence[Event]) -> int:
    """Index of the last 不采用 among effective events in decision order, or -1.

    A 不采用 wipes the adoptions before it: only what follows it stands.
    """
    return max((i for i, e in enumerate(effective) if isinstance(e.decision, Reject)), default=-1)
