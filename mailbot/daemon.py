"""`mailbot run`: intake, the outbox sender and the scheduler in one long-lived process.

Lifecycle (after Mailman's runner): signal handlers only set flags; the intake
loop checks them between mails, so SIGTERM lets the current mail finish and
leaves no half state; every wait is interruptible. An unreachable IMAP or SMTP
server is retried with exponential backoff and jitter, logged once per outage.
Bulletins due while the daemon was down go out when it comes back (catch-up
from the database, not from the scheduler's memory).
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
from sqlmodel import select

from mailbot.config import Config, load_config
from mailbot.errors import MailbotError, TransportError
from mailbot.models import BulletinRow, Setting
from mailbot.runtime import Runtime
from mailbot.store import session_scope

log = logging.getLogger(__name__)

_MAX_BACKOFF = 300.0


def set_setting(rt: Runtime, key: str, value: str) -> None:
    """Record a small piece of daemon state (heartbeats for `mailbot status`)."""
    with session_scope(rt.engine) as s:
        row = s.get(Setting, key) or Setting(key=key, value=value)
        row.value = value
        s.add(row)


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
    tz = config.tz
    local = now.astimezone(tz)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    trigger = CronTrigger.from_crontab(config.bulletin.schedule, timezone=tz)
    fire = trigger.get_next_fire_time(None, month_start)
    if fire is None or fire > local:
        return None
    prev = month_start - dt.timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


@dataclass
class Daemon:
    """One mailbot process: intake loop on the main thread, outbox and scheduler beside it."""

    config_path: Any
    make_runtime: Callable[[Config], Runtime] = Runtime
    stop: threading.Event = field(default_factory=threading.Event)
    reload: threading.Event = field(default_factory=threading.Event)
    wake_outbox: threading.Event = field(default_factory=threading.Event)

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop cleanly; SIGHUP reloads the config."""

        def on_stop(signum: int, _frame: FrameType | None) -> None:
            log.warning("signal %d: stopping after the current mail", signum)
            self.stop.set()
            self.wake_outbox.set()

        def on_hup(_signum: int, _frame: FrameType | None) -> None:
            log.warning("SIGHUP: reloading configuration")
            self.reload.set()

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
        try:
            self._intake_loop(rt)
        finally:
            scheduler.shutdown(wait=True)
            self.wake_outbox.set()
            sender.join(timeout=30)
            self.wake_outbox.clear()
            rt.close()
        if self.reload.is_set() and not self.stop.is_set():
            self.reload.clear()
            try:
                return self.make_runtime(load_config(self.config_path))
            except MailbotError as exc:
                log.error("reload failed, keeping the old configuration: %s", exc)
                return self.make_runtime(rt.config)
        return rt

    def _intake_loop(self, rt: Runtime) -> None:
        from mailbot.intake import poll_once

        backoff = Backoff("IMAP server")
        wait = float(rt.config.mailbox.poll_interval)
        while not (self.stop.is_set() or self.reload.is_set()):
            try:
                report = poll_once(rt, stop=self.stop)
                backoff.ok()
                set_setting(rt, "last_poll", rt.now().isoformat())
                if report.total:
                    log.info("intake: %d mail %s", report.total, report.counts)
                    self.wake_outbox.set()
                set_setting(rt, "idle", "yes")
                # IDLE (or a poll interval) until new mail; capped so the loop re-checks often.
                rt.mailbox.wait(min(wait, 1500.0), self.stop)
                set_setting(rt, "idle", "no")
            except TransportError as exc:
                self._sleep(backoff.failed(exc))
                try:
                    rt.mailbox.reconnect()
                except TransportError:
                    pass

    def _outbox_loop(self, rt: Runtime) -> None:
        from mailbot.outbox import deliver

        backoff = Backoff("SMTP server")
        while not self.stop.is_set():
            try:
                report = deliver(rt.engine, rt.transport)
            except MailbotError as exc:
                log.error("outbox: %s", exc)
                report = None
            if report is not None and report.deferred:
                delay = backoff.failed(TransportError("deferred"))
            else:
                if report is not None and report.sent:
                    backoff.ok()
                delay = 5.0
            self.wake_outbox.wait(delay)
            self.wake_outbox.clear()
            if self.reload.is_set():
                return

    def _sleep(self, seconds: float) -> None:
        self.stop.wait(seconds)

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
            month = bulletin_due(rt.config, rt.rules.calendar, rt.now())
            if month is None:
                return
            with session_scope(rt.engine) as s:
                done = s.exec(select(BulletinRow).where(BulletinRow.period == month)).first()
            if done is not None:
                return
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
