"""The event ledger: 撤销 resolution and item status."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from mailbot.core.review.decisions import Adopt, Decision, Help, Instruct, Penalty, Reject, Undo, UpperAdopt
from mailbot.core.review.ledger import Event, effective_events, item_status

TZ = ZoneInfo("Asia/Shanghai")


def ev(seq: int, decision: Decision, by: str = "a@x.org", item: str = "2026-0001", day: int = 1) -> Event:
    return Event(item, seq, datetime(2026, 10, day, 9, tzinfo=TZ), by, decision)


def kept(events: list[Event]) -> list[int]:
    return [e.seq for e in effective_events(events)]


def test_undo_cancels_own_latest_decision() -> None:
    events = [ev(1, Adopt("穗府信息")), ev(2, Instruct("市")), ev(3, Undo())]
    assert kept(events) == [1]


def test_two_undos_cancel_two_decisions_in_reverse_order() -> None:
    events = [ev(1, Adopt("穗府信息")), ev(2, Instruct("市")), ev(3, Undo()), ev(4, Undo())]
    assert kept(events) == []


def test_undo_only_touches_the_same_reviewer() -> None:
    events = [
        ev(1, Adopt("穗府信息"), by="a@x.org"),
        ev(2, Instruct("市"), by="b@x.org"),
        ev(3, Undo(), by="A@X.org"),
    ]
    assert kept(events) == [2]


def test_undo_only_touches_the_same_item() -> None:
    events = [
        ev(1, Adopt(), item="2026-0001"),
        ev(2, Adopt(), item="2026-0002"),
        ev(3, Undo(), item="2026-0001"),
    ]
    assert kept(events) == [2]


def test_undo_with_nothing_to_cancel_is_a_no_op_and_does_not_cancel_later_decisions() -> None:
    events = [ev(1, Undo()), ev(2, Adopt())]
    assert kept(events) == [2]


def test_undo_skips_help_and_is_resolved_by_seq_not_input_order() -> None:
    events = [ev(3, Help()), ev(4, Undo()), ev(1, Adopt()), ev(2, Penalty(5, "迟报"))]
    assert kept(events) == [1]


def test_status_pending_adopted_rejected() -> None:
    assert item_status([]) == "pending"
    assert item_status([ev(1, Instruct("市"))]) == "pending"
    assert item_status([ev(1, Adopt())]) == "adopted"
    assert item_status([ev(1, Reject("重复"))]) == "rejected"
    assert item_status([ev(1, Reject("重复"), day=1), ev(2, UpperAdopt("省"), day=2)]) == "adopted"


def test_status_follows_decision_time_and_undo() -> None:
    # A paper decision recorded later but dated earlier does not override the newer one.
    events = [ev(1, Reject("退回"), day=5), ev(2, Adopt(), day=3)]
    assert item_status(events) == "rejected"
    assert item_status([ev(1, Adopt()), ev(2, Reject()), ev(3, Undo())]) == "adopted"
