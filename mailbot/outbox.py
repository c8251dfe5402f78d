"""The persistent outbox: every mail mailbot sends is a row first, then a delivery.

A row is written in the same transaction as whatever caused it (an item, a
decision, a bulletin), keyed by a dedupe key so that redoing that work after
a crash finds the row already there. Delivery claims a row, sends it with its
stable Message-ID and marks it sent; a temporary failure backs off and retries.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import random
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy import func, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.errors import PermanentSendError, TransportError
from mailbot.models import OutboxRow, OutboxStatus, utcnow
from mailbot.store import session_scope
from mailbot.transport import Transport

log = logging.getLogger(__name__)

# Seconds to wait after the n-th failure (jitter is added): 30 s … 6 h.
_BACKOFF = (30, 60, 120, 300, 900, 1800, 3600, 7200, 21600)
_CLAIM_SECONDS = 120
WORKER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    message: EmailMessage,
    rcpt_to: Sequence[str],
    mail_from: str,
    item_id: str | None = None,
    priority: int = 5,
    now: dt.datetime | None = None,
) -> bool:
    """Add a mail to the outbox unless one with this dedupe key exists; True when added."""
    exists = session.exec(select(OutboxRow.id).where(OutboxRow.dedupe_key == dedupe_key)).first()
    if exists is not None:
        return False
    message_id = str(message["Message-ID"]).strip("<>")
    session.add(
        OutboxRow(
            dedupe_key=dedupe_key,
            message_id=message_id,
            kind=kind,
            item_id=item_id,
            mail_from=mail_from,
            rcpt_to=list(rcpt_to),
            subject=str(message["Subject"] or ""),
            raw=message.as_bytes(policy=SMTP),
            priority=priority,
            created_at=now or utcnow(),
            next_attempt_at=now or utcnow(),
        )
    )
    return True


def sent_today(session: Session, address: str, now: dt.datetime) -> int:
    """How many automatic mails went (or are queued) to `address` in the last 24 hours."""
    since = now - dt.timedelta(days=1)
    rows = session.exec(
        select(OutboxRow.rcpt_to).where(OutboxRow.created_at >= since, OutboxRow.kind != "bulletin")
    ).all()
    return sum(1 for r in rows if address.lower() in (a.lower() for a in r))


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery pass did."""

    sent: int
    deferred: int
    dead: int


def _claim_next(engine: Engine, now: dt.datetime) -> OutboxRow | None:
    """Claim the most urgent due row for this worker, or None when nothing is due.

    One row at a time, right before it is sent, so a claim never expires while
    a long batch is still being worked through (another daemon would then send
    the same row). The claim is a compare-and-set UPDATE: only one worker's
    UPDATE can match an unclaimed row, on SQLite and PostgreSQL alike.
    """
    until = now + dt.timedelta(seconds=_CLAIM_SECONDS)
    for _ in range(20):  # lost races: try the next candidate
        with session_scope(engine) as s:
            row_id = s.exec(
                select(OutboxRow.id)
                .where(
                    OutboxRow.status == OutboxStatus.QUEUED,
                    OutboxRow.next_attempt_at <= now,
                    or_(col(OutboxRow.claimed_until).is_(None), col(OutboxRow.claimed_until) < now),
                )
                .order_by(col(OutboxRow.priority), col(OutboxRow.id))
                .limit(1)
            ).first()
            if row_id is None:
                return None
            got = s.execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.id) == row_id,
                    col(OutboxRow.status) == OutboxStatus.QUEUED,
                    or_(col(OutboxRow.claimed_until).is_(None), col(OutboxRow.claimed_until) < now),
                )
                .values(claimed_by=WORKER, claimed_until=until)
            ).rowcount  # type: ignore[attr-defined]
        if got:
            with session_scope(engine) as s:
                return s.get(OutboxRow, row_id)
    return None


def deliver(
    engine: Engine, transport: Transport, *, limit: int = 500, now: dt.datetime | None = None
) -> DeliveryReport:
    """Send due mail, most urgent first; returns counts. Never raises on a send failure."""
    sent = deferred = dead = 0
    now = now or utcnow()
    for _ in range(limit):
        row = _claim_next(engine, now)
        if row is None:
            break
        try:
            transport.send(row.raw, row.mail_from, row.rcpt_to, row.message_id)
        except PermanentSendError as exc:
            _finish(engine, row, status=OutboxStatus.DEAD, error=str(exc))
            log.error("outbox %s (%s) refused for good: %s", row.message_id, row.item_id or "-", exc)
            dead += 1
            continue
        except (TransportError, OSError) as exc:
            # The server is down or busy: back off and leave the rest for the next pass.
            _defer(engine, row, str(exc))
            deferred += 1
            log.warning("outbox: deferred %s: %s", row.message_id, exc)
            break
        _finish(engine, row, status=OutboxStatus.SENT, error=None)
        sent += 1
    return DeliveryReport(sent, deferred, dead)


def _finish(engine: Engine, row: OutboxRow, *, status: OutboxStatus, error: str | None) -> None:
    with session_scope(engine) as s:
        s.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id) == row.id)
            .values(
                status=status,
                sent_at=utcnow(),
                last_error=error,
                attempts=row.attempts + 1,
                claimed_by=None,
                claimed_until=None,
            )
        )


def _defer(engine: Engine, row: OutboxRow, error: str) -> None:
    delay = _BACKOFF[min(row.attempts, len(_BACKOFF) - 1)] * (0.8 + 0.4 * random.random())
    with session_scope(engine) as s:
        s.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id) == row.id)
            .values(
                attempts=row.attempts + 1,
                last_error=error[:500],
                claimed_by=None,
                claimed_until=None,
                next_attempt_at=utcnow() + dt.timedelta(seconds=delay),
            )
        )


@dataclass(frozen=True, slots=True)
class OutboxState:
    """For `mailbot status`."""

    queued: int
    oldest_queued: dt.datetime | None
    dead: int


def state(session: Session) -> OutboxState:
    """Counts of queued and dead mail and the age of the oldest queued one."""
    queued, oldest = session.exec(
        select(func.count(), func.min(OutboxRow.created_at)).where(OutboxRow.status == OutboxStatus.QUEUED)
    ).one()
    dead = session.exec(select(func.count()).where(OutboxRow.status == OutboxStatus.DEAD)).one()
    return OutboxState(int(queued), oldest, int(dead))
