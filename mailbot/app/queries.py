"""The read side of the entry points: what the CLI lists and shows, and what the daemon looks up.

Each function opens its own session, reads, and returns values (rows detached from the
session, or dataclasses around them), so that `mailbot/cli/` and `mailbot/daemon.py`
never hold a database session. The JSON shapes built from these values live in cli/views.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import col, select

from mailbot.app.commission import UnitState, states
from mailbot.app.context import Runtime
from mailbot.app.scorebook import Scorebook
from mailbot.core.scoring.periods import Period
from mailbot.core.scoring.scores import ExplainLine, ScoreRow
from mailbot.shell.db.models import (
    AttachmentRow,
    BulletinRow,
    EventRow,
    Item,
    MessageRow,
    OutboxRow,
    YuegaoRow,
)
from mailbot.shell.db.store import session_scope

if TYPE_CHECKING:  # annotations only: the CLI's read side never loads imapclient
    from mailbot.shell.mailbox import Fetched, Mailbox


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One item of `items list`: the row, its current points and the reason its mail was given."""

    item: Item
    score: float | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """One item of `items show`: its line, attachments, and each event with the points it changed."""

    item: Item
    score: float | None
    reason: str | None
    attachments: list[AttachmentRow]
    events: list[tuple[EventRow, float | None]]


@dataclass(frozen=True, slots=True)
class RequestStates:
    """One 约稿 request with each addressed unit's state on it."""

    request: YuegaoRow
    units: list[UnitState]


def items(rt: Runtime, *, status: str | None, unit: str | None, period: str | None) -> list[ItemLine]:
    """Items (refused and quarantined submissions included), oldest first, filtered as `items list` asks.

    `unit` is a unit id or name (an unknown one matches nothing); `period` a label such as 2026-10.
    """
    with session_scope(rt.engine) as s:
        q = select(Item)
        if status:
            q = q.where(Item.status == status)
        if unit:
            u = rt.directory().get(unit) or rt.directory().match(unit)
            q = q.where(Item.unit_id == (u.id if u else unit))
        if period:
            p = Scorebook(rt, s).period(period)
            q = q.where(
                col(Item.received_at) >= p.start.astimezone(dt.UTC),
                col(Item.received_at) < p.end.astimezone(dt.UTC),
            )
        rows = s.exec(q.order_by(col(Item.received_at), col(Item.id))).all()
        reasons = {
            m.item_id: m.reason
            for m in s.exec(
                select(MessageRow).where(col(MessageRow.item_id).in_([i.id for i in rows]))
            ).all()
            if m.disposition in ("refused", "quarantined", "item")
        }
        book = Scorebook(rt, s)
        return [ItemLine(i, book.item_points(i.id), reasons.get(i.id)) for i in rows]


def item(rt: Runtime, item_id: str) -> ItemRecord | None:
    """One item with its attachments and decisions, or None when there is no such item."""
    with session_scope(rt.engine) as s:
        row = s.get(Item, item_id)
        if row is None:
            return None
        atts = list(s.exec(select(AttachmentRow).where(AttachmentRow.item_id == item_id)).all())
        evs = list(
            s.exec(select(EventRow).where(EventRow.item_id == item_id).order_by(col(EventRow.id))).all()
        )
        msg = s.get(MessageRow, row.message_row_id)
        book = Scorebook(rt, s)
        points = book.event_points(item_id)
        return ItemRecord(
            row,
            score=book.item_points(item_id),
            reason=msg.reason if msg else None,
            attachments=atts,
            events=[(e, points.get(e.id or 0)) for e in evs],
        )


def messages(rt: Runtime) -> list[MessageRow]:
    """Every mail ever received, oldest first."""
    with session_scope(rt.engine) as s:
        return list(s.exec(select(MessageRow).order_by(col(MessageRow.received_at), col(MessageRow.id))).all())


def score_rows(rt: Runtime, period: Period) -> list[ScoreRow]:
    """Every unit's score row for the period, ranked within each series (`scores`)."""
    with session_scope(rt.engine) as s:
        return Scorebook(rt, s).rows(period)


def explanation(rt: Runtime, unit_id: str, period: Period) -> list[ExplainLine]:
    """Each item and event behind a unit's score for the period (`scores --explain`)."""
    with session_scope(rt.engine) as s:
        return Scorebook(rt, s).explain(unit_id, period)


def commissions(rt: Runtime) -> list[RequestStates]:
    """Every 约稿 request, by number, with each unit's state now (`yuegao list`)."""
    with session_scope(rt.engine) as s:
        now = rt.now()
        return [
            RequestStates(r, states(rt, s, r, now))
            for r in s.exec(select(YuegaoRow).order_by(col(YuegaoRow.id))).all()
        ]


def first_use(rt: Runtime) -> dt.datetime | None:
    """When mailbot received its first mail: a fresh install owes no bulletin for earlier months."""
    with session_scope(rt.engine) as s:
        first = s.exec(select(func.min(MessageRow.received_at))).one()
    if first is None:
        return None
    return first if first.tzinfo else first.replace(tzinfo=dt.UTC)


def issued_bulletins(rt: Runtime) -> list[str]:
    """The period labels of every bulletin on record (2026-10, 2026-Q1, 2026)."""
    with session_scope(rt.engine) as s:
        return list(s.exec(select(BulletinRow.period)).all())


def urgent_filed(rt: Runtime, box: Mailbox, fetched: Fetched) -> bool:
    """True when the mail `fetched` of `box` was filed as an urgent item."""
    with session_scope(rt.engine) as s:
        urgent = s.exec(
            select(Item.urgent)
            .join(MessageRow, col(MessageRow.item_id) == col(Item.id))
            .where(MessageRow.mailbox == box.source_id, MessageRow.source_key == fetched.key)
            .order_by(col(MessageRow.id).desc())
            .limit(1)
        ).first()
    return bool(urgent)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A mail mailbot queued: what it is about and its bytes, as the recipient receives them."""

    item_id: str | None
    raw: bytes


def outgoing(rt: Runtime, kind: str) -> list[Outgoing]:
    """The mails of one kind (review, confirm …) in the order they were queued."""
    with session_scope(rt.engine) as s:
        rows = s.exec(select(OutboxRow).where(OutboxRow.kind == kind).order_by(col(OutboxRow.id))).all()
        return [Outgoing(r.item_id, r.raw) for r in rows]
