"""The persistent outbox: every mail mailbot sends is a row first, then a delivery.

A row is written in the same transaction as whatever caused it (an item, a
decision, a bulletin), keyed by a dedupe key so that redoing that work after
a crash finds the row already there. Delivery locks a row (a row lock on
PostgreSQL, a file lock on SQLite: both die with the process), sends it with its
stable Message-ID and marks it sent; a temporary failure backs off and retries.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.core.errors import PermanentSendError, TransportError
from mailbot.shell.db.models import OutboxRow, OutboxStatus, Setting, utcnow
from mailbot.shell.db.store import add_setting_once, session_scope

if TYPE_CHECKING:  # queuing a mail must not load aiosmtplib; only delivery is handed a transport
    from mailbot.shell.transport import Transport

log = logging.getLogger(__name__)

# Seconds to wait after the n-th failure (jitter is added): 30 s … 6 h.
_BACKOFF = (30, 60, 120, 300, 900, 1800, 3600, 7200, 21600)


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    message: Message,
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
            raw=_crlf(message.as_bytes()),
            priority=priority,
            created_at=now or utcnow(),
            next_attempt_at=now or utcnow(),
        )
    )
    return True


def _crlf(raw: bytes) -> bytes:
    """Line endings as SMTP wants them (compat32 writes bare LF)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


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


@contextmanager
def _sqlite_sender_lock(engine: Engine) -> Iterator[bool]:
    """On SQLite one process at a time delivers: an flock beside the database file.

    The kernel drops the lock when its process dies, so a SIGKILLed sender
    never leaves mail claimed: the next process simply takes over.
    """
    path = engine.url.database or ""
    if not path or path == ":memory:":
        yield True
        return
    fd = os.open(f"{path}.outbox-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _next_due(s: Session, now: dt.datetime, *, lock: bool) -> OutboxRow | None:
    q = (
        select(OutboxRow)
        .where(OutboxRow.status == OutboxStatus.QUEUED, OutboxRow.next_attempt_at <= now)
        .order_by(col(OutboxRow.priority), col(OutboxRow.id))
        .limit(1)
    )
    if lock:
        # PostgreSQL: the row lock lives as long as this transaction, and the server
        # releases it if the daemon dies; other daemons skip locked rows.
        q = q.with_for_update(skip_locked=True)
    return s.exec(q).first()


def deliver(
    engine: Engine, transport: Transport, *, limit: int = 500, now: dt.datetime | None = None
) -> DeliveryReport:
    """Send due mail, most urgent first; returns counts. Never raises on a send failure.

    Each row is marked sent in its own commit right after the server accepted
    it. A crash between the server's acceptance and that commit makes the next
    pass send it again with the same Message-ID: SMTP offers nothing better.
    """
    now = now or utcnow()
    if engine.dialect.name == "sqlite":
        with _sqlite_sender_lock(engine) as mine:
            if not mine:
                return DeliveryReport(0, 0, 0)
            return _deliver(engine, transport, limit, now, lock=False)
    return _deliver(engine, transport, limit, now, lock=True)


def _deliver(
    engine: Engine, transport: Transport, limit: int, now: dt.datetime, *, lock: bool
) -> DeliveryReport:
    sent = deferred = dead = 0
    with session_scope(engine) as s:
        # One read per pass, so that sending during normal operation costs no extra write.
        in_outage = s.get(Setting, OUTAGE_KEY) is not None
    for _ in range(limit):
        with session_scope(engine) as s:
            row = _next_due(s, now, lock=lock)
            if row is None:
                break
            about = {"message_id": row.message_id, "item": row.item_id}
            try:
                transport.send(row.raw, row.mail_from, row.rcpt_to, row.message_id)
            except PermanentSendError as exc:
                _mark(row, OutboxStatus.DEAD, str(exc))
                s.add(row)
                log.error("outbox: mail refused for good, not retried: %s", exc, extra=about)
                dead += 1
                continue
            except (TransportError, OSError) as exc:
                # The server is down or busy: back off and leave the rest for the next pass.
                _defer(row, str(exc))
                s.add(row)
                deferred += 1
                if _outage_begins(s, now):
                    log.warning(
                        "outbox: SMTP server not accepting mail, queued mail waits and is retried "
                        "with backoff (logged once until mail goes out again): %s",
                        exc,
                        extra=about,
                    )
                else:
                    log.debug("outbox: deferred again (try %d): %s", row.attempts, exc, extra=about)
                break
            if in_outage:
                in_outage = False
                since = _outage_ends(s)
                if since is not None:
                    waiting = s.exec(
                        select(func.count()).where(OutboxRow.status == OutboxStatus.QUEUED)
                    ).one()
                    log.warning(
                        "outbox: SMTP server reachable again after an outage since %s; %d mail waiting",
                        since,
                        waiting,
                    )
            _mark(row, OutboxStatus.SENT, None)
            s.add(row)
            sent += 1
            log.debug("outbox: sent", extra=about)
    return DeliveryReport(sent, deferred, dead)


# The `setting` row present while sending fails: it makes "the outage began" and "it
# ended" one log line each, across passes, cron runs of `poll --once` and daemons.
OUTAGE_KEY = "outbox_outage_since"


def _outage_begins(s: Session, now: dt.datetime) -> bool:
    """Record that sending fails; True only for the first failure of an outage.

    Of several daemons failing at once exactly one is told it was first (the row is
    written in the deferring transaction).
    """
    return add_setting_once(s, OUTAGE_KEY, now.isoformat(timespec="seconds"))


def _outage_ends(s: Session) -> str | None:
    """Forget the outage; returns when it began, or None when another process already ended it."""
    table = Setting.__table__  # type: ignore[attr-defined]
    stmt = delete(table).where(table.c.key == OUTAGE_KEY).returning(table.c.value)
    since: str | None = s.connection().execute(stmt).scalar()
    return since


def _mark(row: OutboxRow, status: OutboxStatus, error: str | None) -> None:
    row.status, row.sent_at, row.last_error, row.attempts = status, utcnow(), error, row.attempts + 1


def _defer(row: OutboxRow, error: str) -> None:
    delay = _BACKOFF[min(row.attempts, len(_BACKOFF) - 1)] * (0.8 + 0.4 * random.random())
    row.attempts += 1
    row.last_error = error[:500]
    row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)


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
