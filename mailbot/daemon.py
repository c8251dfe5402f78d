"""`mailbot run`: intake, the outbox sender and the scheduler in one long-lived process.

Lifecycle (after Mailman's runner): signal handlers only set flags; the intake
loop checks them between mails, so SIGTERM lets the current mail finish and
leaves no half state; every wait is interruptible (SIGHUP too, so a reload
does not wait for the end of an IDLE). An unreachable IMAP server, SMTP server
or database is retried with exponential backoff and jitter, logged once per
outage; none of them stops the process. Bulletins due while the daemon was
down go out when it comes back (catch-up from the database, not from the
scheduler's memory).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from mailbot.config import Config, load_config
from mailbot.errors import MailbotError, TransportError
from mailbot.mailbox import Mailbox
from mailbot.models import BulletinRow, MessageRow, OutboxRow, OutboxStatus, Setting, utcnow
from mailbot.runtime import Runtime
from mailbot.store import session_scope

log = logging.getLogger(__name__)

_MAX_BACKOFF = 300.0
# Rows sent per outbox call: small, so that SIGTERM or SIGHUP is noticed within a second or so.
_BURST = 20
# How often the sender looks for mail queued by other processes (CLI commands, other daemons).
_SENDER_IDLE = 5.0


def set_setting(rt: Runtime, key: str, value: str) -> None:
    """Record a small piece of daemon state (heartbeats for `mailbot status`).

    An upsert, because several daemons (PostgreSQL) write the same heartbeat keys at once.
    """
    engine = rt.engine
    table = Setting.__table__  # type: ignore[attr-defined]
    if engine.dialect.name == "postgresql":
        pg = pg_insert(table).values(key=key, value=value)
        stmt: Any = pg.on_conflict_do_update(index_elements=["key"], set_={"value": pg.excluded.value})
    elif engine.dialect.name == "sqlite":
        lite = sqlite_insert(table).values(key=key, value=value)
        stmt = lite.on_conflict_do_update(index_elements=["key"], set_={"value": lite.excluded.value})
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        with session_scope(engine) as s:
            row = s.get(Setting, key) or Setting(key=key, value=value)
            row.value = value
            s.add(row)
        return
    with engine.begin() as conn:
        conn.execute(stmt)


@dataclass
class Backoff:
    """Exponential backoff with jitter, and one log line per outage rather than per try."""

    what: str
    failures: int = 0

    def failed(self, exc: Exception) -> float:
        """Count a failure; return how long to wait before the next try."""
        self.failures += 1
        if self.failures == 1:
            log.warning("%s unreachable, retrying with backoff: %s", self.what, exc)
        delay = min(_MAX_BACKOFF, 2.0 ** min(self.failures, 9))
        return delay * (0.5 + random.random() / 2)

    def ok(self) -> None:
        """Count a success; logs the end of an outage."""
        if self.failures:
            log.warning("%s reachable again after %d failed tries", self.what, self.failures)
        self.failures = 0


def bulletin_due(config: Config, rules_calendar: Any, now: dt.datetime) -> str | None:
    """The month whose bulletin the schedule says should have gone out by `now` (YYYY-MM), if any."""
    fire = _fire_time(config, now)
    if fire is None:
        return None
    prev = fire.replace(day=1) - dt.timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


def _fire_time(config: Config, now: dt.datetime) -> dt.datetime | None:
    """This month's scheduled bulletin time (office time zone), if it has passed by `now`."""
    tz = config.tz
    local = now.astimezone(tz)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    trigger = CronTrigger.from_crontab(config.bulletin.schedule, timezone=tz)
    fire = trigger.get_next_fire_time(None, month_start)
    if fire is None or fire > local:
        return None
    return fire


def _in_use_before(engine: Engine, when: dt.datetime) -> bool:
    """True when mailbot received mail before `when`: a fresh install owes no bulletin for earlier months."""
    with session_scope(engine) as s:
        first = s.exec(select(func.min(MessageRow.received_at))).one()
    if first is None:
        return False
    first_at = first if first.tzinfo else first.replace(tzinfo=dt.UTC)
    return bool(first_at < when)


def _release_deferred(engine: Engine, *, only_one: bool) -> int:
    """Make deferred outbox rows due now; returns how many.

    The outbox's own per-row backoff (30 s … 6 h) suits a mail the server
    refuses for a while. During an outage of the server itself the daemon
    retries with its own, shorter backoff, using one deferred mail as the probe
    (`only_one`), and once the server answers again everything it deferred goes
    out at once instead of hours later.
    """
    now = utcnow()
    with session_scope(engine) as s:
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


@dataclass(frozen=True, slots=True)
class _Sent:
    sent: int = 0
    deferred: int = 0
    dead: int = 0


@dataclass
class Daemon:
    """One mailbot process: intake loop on the main thread, outbox and scheduler beside it."""

    config_path: Any
    make_runtime: Callable[[Config], Runtime] = Runtime
    stop: threading.Event = field(default_factory=threading.Event)
    reload: threading.Event = field(default_factory=threading.Event)
    wake_outbox: threading.Event = field(default_factory=threading.Event)
    # Set by stop and reload alike: ends IDLE and backoff waits at once.
    interrupt: threading.Event = field(default_factory=threading.Event)

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config."""

        def on_stop(signum: int, _frame: FrameType | None) -> None:
            log.warning("signal %d: stopping after the current mail", signum)
            self.stop.set()
            self.interrupt.set()
            self.wake_outbox.set()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            log.warning("SIGHUP: reloading configuration")
            self.reload.set()
            self.interrupt.set()
            self.wake_outbox.set()

        signal.signal(signal.SIGTERM, on_stop)
        signal.signal(signal.SIGINT, on_stop)
        signal.signal(signal.SIGHUP, on_hup)

    def run(self) -> None:
        """Run until stopped."""
        rt = self.make_runtime(load_config(self.config_path))
        while not self.stop.is_set():
            rt = self._serve(rt)
        log.warning("stopped")

    def _serve(self, rt: Runtime) -> Runtime:
        """Serve with one configuration until stop or reload; returns the runtime to go on with."""
        set_setting(rt, "daemon", json.dumps({"started": rt.now().isoformat(), "idle": False}))
        sender = threading.Thread(target=self._outbox_loop, args=(rt,), name="outbox", daemon=True)
        sender.start()
        scheduler = self._scheduler(rt)
        scheduler.start()
        # One intake loop per mailbox, each with its own connection and IDLE; the first on this thread.
        others = [
            threading.Thread(target=self._intake_loop, args=(rt, box), name=f"intake-{n}", daemon=True)
            for n, box in enumerate(rt.mailboxes[1:], start=2)
        ]
        for t in others:
            t.start()
        try:
            self._intake_loop(rt, rt.mailboxes[0])
        finally:
            for t in others:
                t.join(timeout=30)
            scheduler.shutdown(wait=True)
            self.wake_outbox.set()
            sender.join(timeout=30)
            self.wake_outbox.clear()
            rt.close()
        if self.reload.is_set() and not self.stop.is_set():
            self.reload.clear()
            self.interrupt.clear()
            try:
                fresh = self.make_runtime(load_config(self.config_path))
            except MailbotError as exc:
                log.error("reload failed, keeping the old configuration: %s", exc)
                return self.make_runtime(rt.config)
            log.warning("configuration reloaded from %s", self.config_path)
            return fresh
        return rt

    def _running(self) -> bool:
        return not (self.stop.is_set() or self.reload.is_set())

    def _intake_loop(self, rt: Runtime, box: Mailbox) -> None:
        from mailbot.intake import poll_once

        imap = Backoff(f"IMAP server ({box.source_id})")
        database = Backoff("database")
        wait = float(rt.box_config(box).poll_interval)
        while self._running():
            try:
                report = poll_once(rt, stop=self.interrupt, boxes=[box])
                imap.ok()
                set_setting(rt, "last_poll", rt.now().isoformat())
                database.ok()
                if report.total:
                    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
                    log.info("intake: %d mail (%s)", report.total, counts)
                    self.wake_outbox.set()
                if not self._running():
                    break
                set_setting(rt, "idle", "yes")
                # IDLE (or a poll interval) until new mail; capped so the loop re-checks often.
                box.wait(min(wait, 1500.0), self.interrupt)
                set_setting(rt, "idle", "no")
            except TransportError as exc:
                self._sleep(imap.failed(exc))
                try:
                    box.reconnect()
                except TransportError:
                    pass
            except SQLAlchemyError as exc:
                # The database restarting or a PostgreSQL failover: wait, the pool reconnects.
                self._sleep(database.failed(exc))

    def _outbox_loop(self, rt: Runtime) -> None:
        smtp = Backoff("SMTP server")
        database = Backoff("outbox database")
        while self._running():
            delay = _SENDER_IDLE
            try:
                if smtp.failures:
                    _release_deferred(rt.engine, only_one=True)
                report = self._deliver(rt)
                database.ok()
                if report.deferred:
                    delay = smtp.failed(TransportError(f"{report.deferred} mail deferred"))
                elif report.sent:
                    if smtp.failures:
                        if _release_deferred(rt.engine, only_one=False):
                            delay = 0.0
                    smtp.ok()
                elif smtp.failures:
                    # Nothing was due and nothing waits: there is no outage left to track.
                    smtp.failures = 0
            except MailbotError as exc:
                log.error("outbox: %s", exc)
            except Exception as exc:  # the sender thread must outlive a database outage
                log.exception("outbox: delivery failed")
                delay = database.failed(exc)
            if delay > 0:
                self.wake_outbox.wait(delay)
            self.wake_outbox.clear()

    def _deliver(self, rt: Runtime) -> _Sent:
        """Send what is due in short bursts, stopping between two bursts when asked to."""
        from mailbot.outbox import deliver

        total = _Sent()
        while self._running():
            report = deliver(rt.engine, rt.transport, limit=_BURST)
            total = _Sent(
                total.sent + report.sent, total.deferred + report.deferred, total.dead + report.dead
            )
            if report.deferred or report.sent + report.dead < _BURST:
                break
        return total

    def _sleep(self, seconds: float) -> None:
        self.interrupt.wait(seconds)

    def _scheduler(self, rt: Runtime) -> BackgroundScheduler:
        tz = rt.config.tz
        sched = BackgroundScheduler(timezone=tz)
        common: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        sched.add_job(
            self._bulletin_job,
            CronTrigger.from_crontab(rt.config.bulletin.schedule, timezone=tz),
            args=[rt],
            id="bulletin",
            **common,
        )
        # Catch-up: a bulletin that was due while the daemon was down goes out now.
        sched.add_job(self._bulletin_job, "date", args=[rt], id="bulletin-catch-up")
        sched.add_job(
            self._reminders_job,
            CronTrigger(hour=9, minute=0, timezone=tz),
            args=[rt],
            id="yuegao-reminders",
            **common,
        )
        return sched

    def _bulletin_job(self, rt: Runtime) -> None:
        from mailbot.periods import parse_period
        from mailbot.publish import issue

        try:
            now = rt.now()
            month = bulletin_due(rt.config, rt.rules.calendar, now)
            fire = _fire_time(rt.config, now)
            if month is None or fire is None:
                return
            with session_scope(rt.engine) as s:
                done = s.exec(select(BulletinRow).where(BulletinRow.period == month)).first()
            if done is not None:
                return
            if not _in_use_before(rt.engine, fire):
                log.info("no bulletin for %s: mailbot received no mail before %s", month, fire)
                return
            # Two daemons may both get here: the unique bulletin period and the
            # per-address dedupe keys let one of them win, the other fail harmlessly.
            _data, queued = issue(rt, parse_period(month, rt.rules.calendar))
            log.warning("bulletin %s issued: %d copies queued", month, queued)
            self.wake_outbox.set()
        except Exception:
            log.exception("bulletin job failed; it runs again at the next schedule or restart")

    def _reminders_job(self, rt: Runtime) -> None:
        from mailbot.yuegao import queue_reminders

        try:
            with session_scope(rt.engine) as s:
                n = queue_reminders(rt, s, rt.now())
            if n:
                log.info("约稿 reminders queued: %d", n)
                self.wake_outbox.set()
        except Exception:
            log.exception("约稿 reminder job failed")
