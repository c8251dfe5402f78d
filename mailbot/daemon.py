"""`mailbot run`: intake, the outbox sender and the scheduler in one long-lived process.

Lifecycle (after Mailman's runner): signal handlers only set flags; the intake
loop checks them between mails, so SIGTERM lets the current mail finish and
leaves no half state; every wait is interruptible (SIGHUP too, so a reload
does not wait for the end of an IDLE). An unreachable IMAP server, SMTP server
or database is retried with exponential backoff and jitter, logged once per
outage; none of them stops the process. Bulletins due while the daemon was
down go out when it comes back (catch-up from the database, not from the
scheduler's memory), every month of the outage, oldest first.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from mailbot.app import queries, status
from mailbot.app.commission import send_reminders
from mailbot.app.context import DatabaseError, Runtime
from mailbot.app.delivery import deliver_bursts, release_deferred
from mailbot.app.housekeeping import housekeep
from mailbot.app.intake import poll_once
from mailbot.app.publish import issue
from mailbot.core.errors import MailbotError, TransportError
from mailbot.core.scoring.periods import parse_period
from mailbot.shell.config import Config, load_config
from mailbot.shell.db.models import Disposition
from mailbot.shell.mailbox import Fetched, Mailbox
from mailbot.shell.outbox import DeliveryReport

log = logging.getLogger(__name__)

_MAX_BACKOFF = 300.0
# Rows sent per outbox call: small, so that SIGTERM or SIGHUP is noticed within a second or so.
_BURST = 20
# How often the sender looks for mail queued by other processes (CLI commands, other daemons).
_SENDER_IDLE = 5.0


@dataclass
class Backoff:
    """Exponential backoff with jitter, and one log line per outage rather than per try."""

    what: str
    failures: int = 0
    # False where another layer logs the outage already (the outbox does, for SMTP).
    loud: bool = True
    # An unexpected error (a bug, a broken Maildir) is logged with its traceback, once.
    trace: bool = False

    def failed(self, exc: Exception) -> float:
        """Count a failure; return how long to wait before the next try."""
        self.failures += 1
        if self.failures == 1 and self.loud:
            if self.trace:
                log.error("%s failed, retrying with backoff: %s", self.what, exc, exc_info=exc)
            else:
                log.warning("%s unreachable, retrying with backoff: %s", self.what, exc)
        delay = min(_MAX_BACKOFF, 2.0 ** min(self.failures, 9))
        return delay * (0.5 + random.random() / 2)

    def ok(self) -> None:
        """Count a success; logs the end of an outage."""
        if self.failures and self.loud:
            state = "working" if self.trace else "reachable"
            log.warning("%s %s again after %d failed tries", self.what, state, self.failures)
        self.failures = 0


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def bulletins_due(
    schedule: str,
    tz: dt.tzinfo,
    now: dt.datetime,
    *,
    last_issued: str | None,
    first_use: dt.datetime | None,
) -> list[str]:
    """Every month (YYYY-MM, oldest first) whose bulletin the schedule says is due by `now`.

    Each fire time of `schedule` issues the bulletin of the month before it.
    Owed are the months after `last_issued` (the newest monthly bulletin on
    record) whose fire time has passed, but none before `first_use` (the first
    mail received): a fresh install owes nothing for months it did not see.
    """
    if first_use is None:
        return []
    used = first_use.astimezone(tz)
    first_owed = (used.year, used.month)
    m = _MONTH.match(last_issued or "")
    if m:
        first_owed = max(first_owed, _next_month((int(m[1]), int(m[2]))))
    trigger = CronTrigger.from_crontab(schedule, timezone=tz)
    local_now = now.astimezone(tz)
    out: list[str] = []
    # A month's bulletin is issued by the first fire time on or after the start of the next month.
    month = _next_month(first_owed)
    while True:
        start = dt.datetime(month[0], month[1], 1, tzinfo=tz)
        fire = trigger.get_next_fire_time(None, start) if start <= local_now else None
        if fire is None or fire > local_now:
            return out
        fire_month = (fire.year, fire.month)
        period = _next_month(fire_month, -1)
        out.append(f"{period[0]}-{period[1]:02d}")
        # Later fire times in the same month would issue the same bulletin again.
        month = _next_month(fire_month)


def _next_month(ym: tuple[int, int], step: int = 1) -> tuple[int, int]:
    n = ym[0] * 12 + ym[1] - 1 + step
    return n // 12, n % 12 + 1


def _last_monthly(periods: list[str]) -> str | None:
    """The newest monthly bulletin of those on record (quarterly and yearly ones are issued by hand)."""
    months = [p for p in periods if _MONTH.match(p)]
    return max(months) if months else None


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
        status.note_started(rt)
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
        """Serve one mailbox until stop or reload.

        No error ends it (a dead thread is a mailbox silently no longer served):
        each is logged once per outage, recorded for `mailbot status`, and retried with backoff.
        """
        sid = box.source_id
        imap = Backoff(f"IMAP server ({sid})")
        database = Backoff("database")
        broken = Backoff(f"mailbox {sid}", trace=True)
        wait = float(rt.box_config(box).poll_interval)

        def filed(of: Mailbox, fetched: Fetched, disposition: str) -> None:
            # An urgent item's alert goes out now, not after the rest of a backlog is filed.
            if disposition != Disposition.ITEM:
                return
            try:
                urgent = queries.urgent_filed(rt, of, fetched)
            except DatabaseError:
                urgent = True  # cannot tell: waking the sender costs one look at the outbox
            if urgent:
                self.wake_outbox.set()

        # None: unknown, as a previous run may have stopped while this mailbox was failing.
        failing: bool | None = None
        while self._running():
            try:
                report = poll_once(rt, stop=self.interrupt, boxes=[box], on_filed=filed)
                imap.ok()
                broken.ok()
                status.note_polled(rt, sid)
                if failing is not False:
                    status.note_recovered(rt, sid)
                    failing = False
                database.ok()
                if report.total:
                    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()))
                    log.info("intake: %d mail (%s)", report.total, counts)
                    self.wake_outbox.set()
                if not self._running():
                    break
                status.note_idle(rt, sid, True)
                # IDLE (or a poll interval) until new mail; capped so the loop re-checks often.
                box.wait(min(wait, 1500.0), self.interrupt)
                status.note_idle(rt, sid, False)
            except TransportError as exc:
                failing = status.note_failing(rt, sid, exc, failing)
                self._sleep(imap.failed(exc))
                try:
                    box.reconnect()
                except TransportError:
                    pass
            except DatabaseError as exc:
                # The database restarting or a PostgreSQL failover: wait, the pool reconnects.
                self._sleep(database.failed(exc))
            except Exception as exc:
                failing = status.note_failing(rt, sid, exc, failing)
                self._sleep(broken.failed(exc))
                try:
                    box.reconnect()
                except Exception:  # the next pass reports whatever is still wrong
                    log.debug("mailbox %s: reconnect failed", sid, exc_info=True)

    def _outbox_loop(self, rt: Runtime) -> None:
        smtp = Backoff("SMTP server", loud=False)
        database = Backoff("outbox database")
        while self._running():
            delay = _SENDER_IDLE
            try:
                if smtp.failures:
                    release_deferred(rt, only_one=True)
                report = self._deliver(rt)
                database.ok()
                if report.deferred:
                    delay = smtp.failed(TransportError(f"{report.deferred} mail deferred"))
                elif report.sent:
                    if smtp.failures:
                        if release_deferred(rt, only_one=False):
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

    def _deliver(self, rt: Runtime) -> DeliveryReport:
        """Send what is due in short bursts, stopping between two bursts when asked to."""
        return deliver_bursts(rt, _BURST, self._running)

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
        sched.add_job(
            self._housekeeping_job,
            CronTrigger(hour=3, minute=30, timezone=tz),
            args=[rt],
            id="housekeeping",
            **common,
        )
        # Also at start: a daemon restarted every night before 03:30 would otherwise never run it.
        sched.add_job(self._housekeeping_job, "date", args=[rt], id="housekeeping-at-start")
        return sched

    def _bulletin_job(self, rt: Runtime) -> None:

        try:
            months = bulletins_due(
                rt.config.bulletin.schedule,
                rt.config.tz,
                rt.now(),
                last_issued=_last_monthly(queries.issued_bulletins(rt)),
                first_use=queries.first_use(rt),
            )
            # Oldest first, and a failure stops the rest: a later month issued past a gap
            # would hide the missed one from the next catch-up.
            for month in months:
                # Two daemons may both get here: the unique bulletin period and the
                # per-address dedupe keys let one of them win, the other fail harmlessly.
                _data, queued = issue(rt, parse_period(month, rt.rules.calendar))
                log.warning("bulletin %s issued: %d copies queued", month, queued)
                self.wake_outbox.set()
        except Exception:
            log.exception("bulletin job failed; it runs again at the next schedule or restart")

    def _housekeeping_job(self, rt: Runtime) -> None:

        try:
            report = housekeep(rt.engine, rt.now())
            log.info(
                "housekeeping: bytes of %d sent mail(s) emptied, WAL checkpoint %s",
                report.emptied,
                "done" if report.checkpointed else "not done",
            )
        except Exception:
            log.exception("housekeeping failed; it runs again tomorrow")

    def _reminders_job(self, rt: Runtime) -> None:

        try:
            n = send_reminders(rt)
            if n:
                log.info("约稿 reminders queued: %d", n)
                self.wake_outbox.set()
        except Exception:
            log.exception("约稿 reminder job failed")
