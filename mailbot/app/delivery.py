"""Sending what the outbox holds, for the entry points.

A CLI command that queued mail sends until nothing more is due before it exits; the daemon's
sender thread sends in short bursts so that a stop is noticed between two of them, and during
an SMTP outage probes the server with one deferred mail before releasing the rest.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update
from sqlmodel import col, select

from mailbot.app.context import Runtime
from mailbot.shell.db.models import OutboxRow, OutboxStatus, utcnow
from mailbot.shell.db.store import session_scope
from mailbot.shell.outbox import DeliveryReport, deliver


def _add(a: DeliveryReport, b: DeliveryReport) -> DeliveryReport:
    return DeliveryReport(a.sent + b.sent, a.deferred + b.deferred, a.dead + b.dead)


def deliver_all(rt: Runtime) -> DeliveryReport:
    """Send until nothing more is due or the server defers; raises MailbotError if it cannot be reached."""
    total = DeliveryReport(0, 0, 0)
    while True:
        report = deliver(rt.engine, rt.transport)
        total = _add(total, report)
        if report.deferred or not (report.sent or report.dead):
            return total


def deliver_bursts(rt: Runtime, burst: int, going: Callable[[], bool]) -> DeliveryReport:
    """Send what is due `burst` mails at a time, stopping between two bursts once `going()` is False."""
    total = DeliveryReport(0, 0, 0)
    while going():
        report = deliver(rt.engine, rt.transport, limit=burst)
        total = _add(total, report)
        if report.deferred or report.sent + report.dead < burst:
            break
    return total


def release_deferred(rt: Runtime, *, only_one: bool) -> int:
    """Make deferred outbox rows due now; returns how many.

    The outbox's own per-row backoff (30 s … 6 h) suits a mail the server
    refuses for a while. During an outage of the server itself the daemon
    retries with its own, shorter backoff, using one deferred mail as the probe
    (`only_one`), and once the server answers again everything it deferred goes
    out at once instead of hours later.
    """
    now = utcnow()
    with session_scope(rt.engine) as s:
        q = (
            select(OutboxRow.id)
            .where(OutboxRow.status == OutboxStatus.QUEUED, col(OutboxRow.next_attempt_at) > now)
            .order_by(col(OutboxRow.priority), col(OutboxRow.id))
        )
        ids = list(s.exec(q.limit(1) if only_one else q).all())
        if ids:
            s.execute(
                update(OutboxRow)
                .where(col(OutboxRow.id).in_(ids), col(OutboxRow.status) == OutboxStatus.QUEUED)
                .values(next_attempt_at=now)
            )
    return len(ids)
