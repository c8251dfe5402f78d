"""Rows to core values and back: how an event row stores a decision, and what the pure rules read of a row."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from mailbot.core.bulletin.adoptions import Listed
from mailbot.core.letters import ItemFacts
from mailbot.core.review import ledger
from mailbot.core.review.decisions import Decision, arguments, rebuild
from mailbot.core.scoring import commission
from mailbot.core.submission.correction import Corrected
from mailbot.shell.clock import as_utc
from mailbot.shell.db.models import EventRow, Item, YuegaoRow


def decision_args(decision: Decision) -> dict[str, Any]:
    """The decision's arguments as stored in the event row."""
    return arguments(decision)


def decision_of(row: EventRow) -> Decision:
    """Rebuild the typed decision from an event row."""
    return rebuild(row.kind, row.args)


def ledger_event(row: EventRow) -> ledger.Event:
    """An event row as a ledger event (SQLite hands back naive UTC times)."""
    return ledger.Event(row.item_id, row.id or 0, as_utc(row.at), row.by, decision_of(row))


def ledger_events(s: Session, item_id: str) -> list[ledger.Event]:
    """All events of one item, as ledger events, in the order they were recorded."""
    rows = s.exec(select(EventRow).where(EventRow.item_id == item_id).order_by(col(EventRow.id))).all()
    return [ledger_event(r) for r in rows]


def commission_request(row: YuegaoRow) -> commission.Request:
    """A 约稿 row as the 约稿 rules see it."""
    return commission.Request(row.id, row.title, row.due, tuple(row.units))


def commission_response(item: Item) -> commission.Response:
    """An item as the 约稿 rules see it: the request it answers, late as intake flagged it."""
    return commission.Response(
        item.id, item.unit_id, as_utc(item.received_at), item.yuegao_no, commission.LATE in item.flags
    )


def corrected(item: Item) -> Corrected:
    """An item as the 更正 rule sees the item a correction names."""
    return Corrected(item.id, item.unit_id, item.unit_name, item.status)


def bulletin_listed(item: Item) -> Listed:
    """An item as the bulletin names it in its lists of decisions."""
    return Listed(item.id, item.unit_name, item.title, item.status)
def item_facts(item: Item) -> ItemFacts:
    """What the mails say of an item row (core/letters)."""
    return ItemFacts(
        id=item.id,
        title=item.title,
        unit_name=item.unit_name,
        from_addr=item.from_addr,
        message_id=item.message_id,
        reporter=item.reporter,
        signer=item.signer,
        phone=item.phone,
        written_date=item.written_date,
        urgent=item.urgent,
        correction_of=item.correction_of,
        text=item.text,
        cover_note=item.cover_note,
        text_note=item.text_note,
        flags=tuple(item.flags),
        similar_to=item.similar_to,
        similarity=item.similarity,
    )
