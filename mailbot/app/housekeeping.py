"""Daily housekeeping: forget the bytes of long-sent mail, keep the database file from growing.

Every outgoing mail is stored whole in its outbox row until it is sent; after
that the row is the sending record (recipients, subject, Message-ID, times) and
its bytes are only a copy of what went out. Bulletins make that copy large
(one HTML + .xlsx per address, every month), so the bytes of mail sent more
than `SENT_RETENTION` ago are emptied. Queued and refused (dead) rows keep
theirs: they may still be sent, or be needed to see why they were refused.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, update
from sqlalchemy.engine import Engine
from sqlmodel import col

from mailbot.shell.db.models import OutboxRow, OutboxStatus

log = logging.getLogger(__name__)

SENT_RETENTION = dt.timedelta(days=30)


def forgettable(now: dt.datetime, keep: dt.timedelta = SENT_RETENTION) -> ColumnElement[bool]:
    """Outbox rows whose bytes may go: sent more than `keep` before `now`, bytes not yet emptied."""
    return and_(
        col(OutboxRow.status) == OutboxStatus.SENT,
        col(OutboxRow.sent_at).is_not(None),
        col(OutboxRow.sent_at) < now - keep,
        func.length(OutboxRow.raw) > 0,
    )


@dataclass(frozen=True, slots=True)
class HousekeepingReport:
    """What one run did."""

    emptied: int
    checkpointed: bool


def empty_sent_bytes(engine: Engine, now: dt.datetime, keep: dt.timedelta = SENT_RETENTION) -> int:
    """Empty the stored bytes of mail sent long ago (the row stays); returns how many rows."""
    # b"" rather than NULL: the column is NOT NULL, and this needs no migration.
    with engine.begin() as conn:
        result = conn.execute(update(OutboxRow).where(forgettable(now, keep)).values(raw=b""))
    return int(result.rowcount or 0)


def checkpoint(engine: Engine) -> bool:
    """On SQLite, copy the WAL into the database and truncate it; True when it completed.

    Readers that never pause (the daemon's own connections) can keep the WAL
    from being reset by SQLite's automatic checkpoints; a TRUNCATE checkpoint
    once a day keeps the -wal file from growing without bound.
    """
    if engine.dialect.name != "sqlite":
        return False
    with engine.connect() as conn:
        busy, _log_pages, _done = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy


def housekeep(engine: Engine, now: dt.datetime) -> HousekeepingReport:
    """The daily job: empty old sent mail's bytes, then checkpoint the WAL."""
    emptied = empty_sent_bytes(engine, now)
    done = checkpoint(engine)
    return HousekeepingReport(emptied, done)
