"""`mailbot run` under faults: servers going away, kills, SIGTERM, SIGHUP, and `mailbot status`.

Every test runs the real daemon (`python -m mailbot run -c CONFIG`) against a
real Dovecot and a real SMTP server, and judges it the way an operator would:
`messages list --json`, `items list --json`, `status --json`, and what reached
the SMTP server. Waits are bounded and say what they were waiting for; the
only timing assertion is the SIGTERM bound SPEC §7 promises (exit within 5 s).

Before counting what was sent, each test stops the daemon: a stopped process
cannot send anything more, so "exactly once" is then a final fact, not a
snapshot.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller

from mailbot.app.context import Runtime
from mailbot.daemon import Daemon, bulletins_due
from mailbot.demo import samples
from mailbot.shell.config import load_config
from tests.app.test_intake import deliver, folder_counts, good
from tests.app.test_loops import dsn_bounce
from tests.office import REPO, REVIEWER, Office, make_office, parse
from tests.servers import HOST, Captured, Dovecot, SmtpCapture, free_port

# These tests are not about bulletins: a schedule that never fires (30 February)
# keeps the daemon from issuing one and adding 260 mails to the counts.
NO_BULLETIN = '\n[bulletin]\nschedule = "0 9 30 2 *"\n'
OFFICERS = [
    ("qx01@gz.example.org", "越秀区政府"),
    ("qx02@gz.example.org", "荔湾区政府"),
    ("ba01@gz.example.org", "市发改委"),
    ("ba05@gz.example.org", "市公安局"),
    ("za04@gz.example.org", "广州海关"),
]
FINAL = {"item", "decision", "refused", "quarantined", "ignored"}


# -- helpers ------------------------------------------------------------------------------------


def wait_until(what: str, check: Callable[[], Any], timeout: float, *, every: float = 0.3) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last!r}")


def submissions(n: int, tag: str, *, seed: int = 7, date: dt.datetime | None = None) -> list[bytes]:
    """`n` valid submissions from five units, each with its own Message-ID `<tag-i@gz.example.org>`."""
    rng = random.Random(seed)
    when = date or dt.datetime.now(dt.UTC)
    out = []
    for i in range(n):
        sender, unit = OFFICERS[i % len(OFFICERS)]
        topic = samples.TOPICS[i % len(samples.TOPICS)]
        title = f"{unit}{topic}工作进展{tag}第{i}期"
        out.append(
            samples.submission(
                sender=sender,
                subject=samples.labelled_subject(title, unit, "张三", "李四", "020-83123456"),
                body=samples.body_text(unit, topic, rng),
                date=when - dt.timedelta(seconds=n - i),
                message_id=f"<{tag}-{i}@gz.example.org>",
                charset="gbk" if i % 3 == 0 else "utf-8",
            )
        )
    return out


def sent(messages: list[Captured]) -> dict[str, collections.Counter[str]]:
    """Mails that reached the SMTP server by kind (receipt, review, …): Message-ID → copies."""
    kinds = {"[报送#": "receipt", "[待审#": "review", "《": "bulletin"}
    out: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for m in messages:
        msg = parse(m.content)
        subject = str(msg["Subject"])
        kind = next((k for prefix, k in kinds.items() if subject.startswith(prefix)), "other")
        out[kind][str(msg["Message-ID"])] += 1
    return out


def twice(counter: collections.Counter[str]) -> int:
    """How many copies beyond the first were sent, over all Message-IDs."""
    return sum(c - 1 for c in counter.values())


def messages_list(office: Office) -> list[dict[str, Any]]:
    return list(office.json("messages", "list"))


def _archived(root: Path) -> int:
    """Raw mails in the archive: each is written (fsync) before the mail is processed."""
    return sum(1 for _ in root.glob("*/*.eml")) if root.exists() else 0


def archived_at_least(root: Path, goal: int) -> Callable[[], bool]:
    """A check that the archive holds at least `goal` raw mails."""
    return lambda: _archived(root) >= goal


def _more_than(office: Office, n: int) -> list[dict[str, Any]] | None:
    rows = messages_list(office)
    return rows if len(rows) > n else None


def status(office: Office, **env: str) -> tuple[int, dict[str, Any]]:
    """`mailbot status --json` (optionally with extra environment): exit code and report."""
    import json

    runner = Office(office.root, {**office.env, **env})
    proc = runner.run("status", "--json", check=False)
    assert proc.returncode in (0, 1), f"status exited {proc.returncode}:\n{proc.stderr}"
    return proc.returncode, json.loads(proc.stdout)


@dataclass
class DaemonProc:
    """One `mailbot run` subprocess and its log file."""

    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no handler runs, no cleanup, exactly what a power cut or the OOM killer does."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self, timeout: float = 30) -> float:
        """SIGTERM and wait; returns how long the exit took; fails if it exits non-zero."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"daemon ignored SIGTERM for {timeout} s:\n{self.output()}") from None
        took = time.monotonic() - started
        assert self.proc.returncode == 0, f"daemon exited {self.proc.returncode}:\n{self.output()}"
        return took


@dataclass
class Daemons:
    """Starts `mailbot run` processes and kills any left over when the test ends."""

    logs: Path
    started: list[DaemonProc] = field(default_factory=list)

    def start(self, office: Office, **env: str) -> DaemonProc:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"daemon-{len(self.started) + 1}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "mailbot", "run", "-c", str(office.config)],
                env={**office.env, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        daemon = DaemonProc(proc, log)
        self.started.append(daemon)
        return daemon

    def cleanup(self) -> None:
        for d in self.started:
            if d.alive():
                d.proc.kill()
                d.proc.wait(10)


def office_for(
    tmp_path: Path, imap_account: tuple[str, str, str], smtp_url: str, *, extra: str = NO_BULLETIN, **kw: Any
) -> Office:
    _, password, url = imap_account
    office = make_office(
        tmp_path / "office",
        mailbox_url=url,
        smtp_url=smtp_url,
        imap_password=password,
        urgent=(),
        extra=extra,
        **kw,
    )
    # Create the database before two processes (the daemon and a CLI probe) could both try:
    # SQLite migrations take no lock (see the report on store.migrate).
    office.run("messages", "list")
    return office


def filed(office: Office, n: int, timeout: float, daemon: DaemonProc | None = None) -> list[dict[str, Any]]:
    """Wait until `messages list` shows `n` mails, all with a final disposition."""

    def check() -> list[dict[str, Any]] | None:
        if daemon is not None and not daemon.alive():
            raise AssertionError(f"daemon died:\n{daemon.output()}")
        rows = messages_list(office)
        return rows if len(rows) >= n and all(r["disposition"] in FINAL for r in rows) else None

    return list(wait_until(f"{n} mails filed", check, timeout, every=0.5))


# -- 1. the IMAP server goes away ---------------------------------------------------------------


def test_dovecot_restart_during_a_run_files_everything_once(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    address = imap_account[0]
    daemon = daemons.start(office)
    deliver(dovecot, imap_account, *submissions(3, "before"))
    filed(office, 3, 60, daemon)

    dovecot.stop()
    # Mail that arrives while the IMAP server is down (written straight into the Maildir).
    dovecot.seed(address, submissions(3, "during"))
    time.sleep(3)  # long enough for the daemon to lose its IDLE connection and back off
    assert daemon.alive(), f"the daemon must survive the IMAP outage:\n{daemon.output()}"
    restarted = dt.datetime.now(dt.UTC)
    dovecot.start()
    deliver(dovecot, imap_account, *submissions(3, "after"))

    rows = filed(office, 9, 90, daemon)
    code, report = status(office)
    assert code == 0 and report["healthy"], report
    assert dt.datetime.fromisoformat(report["last_poll"]) > restarted
    wait_until("18 mails sent", lambda: len(smtp_capture.messages) >= 18, 60)
    daemon.terminate()

    assert len(rows) == 9 and {r["disposition"] for r in rows} == {"item"}
    items = office.json("items", "list")
    assert len(items) == 9 and len({i["message_id"] for i in items}) == 9
    got = sent(smtp_capture.messages)
    assert len(got["receipt"]) == 9 and twice(got["receipt"]) == 0, got["receipt"]
    assert len(got["review"]) == 9 and twice(got["review"]) == 0, got["review"]
    assert folder_counts(dovecot, imap_account)["INBOX"] == 0


# -- 2. the SMTP server goes away ---------------------------------------------------------------


def test_smtp_outage_queues_receipts_and_sends_each_once_when_back(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    daemon = daemons.start(office)
    smtp_capture.stop()
    deliver(dovecot, imap_account, *submissions(4, "outage"))
    filed(office, 4, 60, daemon)
    # Filed while the server is down: the receipts and review requests wait in the outbox.
    report = status(office)[1]
    assert report["outbox"]["queued"] == 8, report
    time.sleep(4)  # let the sender try, fail and back off
    assert daemon.alive(), daemon.output()
    assert status(office)[1]["outbox"]["queued"] == 8

    smtp_capture.start()
    wait_until("8 queued mails sent after the outage", lambda: len(smtp_capture.messages) >= 8, 90)
    wait_until("an empty outbox", lambda: status(office)[1]["outbox"]["queued"] == 0, 30)
    daemon.terminate()

    got = sent(smtp_capture.messages)
    assert len(got["receipt"]) == 4 and twice(got["receipt"]) == 0, got["receipt"]
    assert len(got["review"]) == 4 and twice(got["review"]) == 0, got["review"]
    assert "SMTP server reachable again" in daemon.output()


# -- 3. SIGKILL during intake -------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_during_intake_then_restart_files_all_once(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    """A kill between the SMTP server's 250 and our commit of "sent" can resend one mail
    (same Message-ID; see test_crash.py): duplicates are allowed up to the number of kills."""
    n = 200
    rng = random.Random(2026)
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    dovecot.seed(imap_account[0], submissions(n, "backlog"))
    archive = office.root / "var" / "archive"
    kills = 0
    for _ in range(3):
        before = _archived(archive)
        daemon = daemons.start(office)
        # Kill once this run has archived a random number of mails of its own: that
        # is "during intake" on a fast machine as much as on a slow one.
        goal = before + rng.randint(10, 40)
        wait_until("intake progress", archived_at_least(archive, goal), 60, every=0.01)
        if not daemon.alive():
            raise AssertionError(daemon.output())
        daemon.kill()
        kills += 1
    rows_now = messages_list(office)
    assert len(rows_now) < n, "the kills came too late to interrupt the intake"

    daemon = daemons.start(office)
    rows = filed(office, n, 180, daemon)
    wait_until(f"{2 * n} mails sent", lambda: len(smtp_capture.messages) >= 2 * n, 120)
    daemon.terminate()

    assert len(rows) == n and collections.Counter(r["disposition"] for r in rows) == {"item": n}
    items = office.json("items", "list")
    assert len(items) == n and len({i["message_id"] for i in items}) == n
    got = sent(smtp_capture.messages)
    assert len(got["receipt"]) == n and len(got["review"]) == n
    duplicates = twice(got["receipt"]) + twice(got["review"])
    assert duplicates <= kills, f"{duplicates} duplicate sends for {kills} kills"
    assert folder_counts(dovecot, imap_account)["INBOX"] == 0


# -- 4. SIGKILL during a bulletin send ----------------------------------------------------------


class KillSwitchSmtp:
    """An SMTP server that records mail and, once armed, SIGKILLs the sender in the middle of a DATA.

    The kill lands after `after` copies were accepted and before the next one
    is: the killed process never got a "250" it failed to record, so a correct
    restart must deliver every copy exactly once. (A kill after the 250 and
    before the commit is the one window SMTP leaves open; test_crash.py covers it.)
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._messages: list[Captured] = []
        self._cond = threading.Condition()
        self._victim: int | None = None
        self._after = 0
        self._controller = Controller(self, hostname=HOST, port=self.port, ready_timeout=10)
        self._controller.start()

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    @property
    def messages(self) -> list[Captured]:
        with self._cond:
            return list(self._messages)

    def arm(self, pid: int, *, after: int) -> None:
        """SIGKILL `pid` when it sends a copy after `after` copies in all were accepted."""
        with self._cond:
            self._victim, self._after = pid, after

    def clear(self) -> None:
        with self._cond:
            self._messages.clear()

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            if self._victim is not None and len(self._messages) >= self._after:
                os.kill(self._victim, signal.SIGKILL)
                self._victim = None
                return "451 4.3.0 sender killed mid-transaction"
            self._messages.append(
                Captured(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content))
            )
            self._cond.notify_all()
        return "250 OK"


@pytest.fixture
def kill_switch() -> Iterator[KillSwitchSmtp]:
    server = KillSwitchSmtp()
    try:
        yield server
    finally:
        server.stop()


def bulletin_addresses() -> set[str]:
    """Every unit's bulletin_to address in the shipped units.toml (130 units × 2)."""
    units = tomllib.loads((REPO / "config" / "units.toml").read_text(encoding="utf-8"))["unit"]
    return {a.lower() for u in units for a in u["bulletin_to"]}


def assert_one_copy_each(messages: list[Captured]) -> None:
    expected = bulletin_addresses()
    assert len(expected) == 260
    copies = [m for m in messages if str(parse(m.content)["Subject"]).startswith("《")]
    assert all(len(m.rcpt_tos) == 1 for m in copies), "each unit gets its own message, no address list"
    per_address = collections.Counter(m.rcpt_tos[0].lower() for m in copies)
    doubled = {a: c for a, c in per_address.items() if c > 1}
    assert not doubled, f"addresses that got the bulletin twice: {doubled}"
    assert set(per_address) == expected, f"missing: {sorted(expected - set(per_address))[:5]}…"
    assert len({str(parse(m.content)["Subject"]) for m in copies}) == 1


def wait_killed(what: str, proc: subprocess.Popen[bytes], timeout: float, output: Callable[[], str]) -> None:
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"{what} was never killed mid-send within {timeout} s:\n{output()}") from None
    assert proc.returncode == -signal.SIGKILL, f"{what} exited {proc.returncode} before the kill:\n{output()}"


def last_month(now: dt.datetime) -> str:
    first = now.astimezone(dt.timezone(dt.timedelta(hours=8))).replace(day=1)
    prev = first - dt.timedelta(days=1)
    return f"{prev.year}-{prev.month:02d}"


@pytest.mark.slow
def test_bulletin_send_killed_midway_then_finished_by_the_daemon_exactly_once(
    tmp_path: Path, imap_account: tuple[str, str, str], kill_switch: KillSwitchSmtp, daemons: Daemons
) -> None:
    # The default schedule: this office received no mail, so the daemon's catch-up issues
    # nothing itself; it only delivers what `bulletin --send` queued.
    office = office_for(tmp_path, imap_account, kill_switch.url, extra="")
    period = last_month(dt.datetime.now(dt.UTC))
    cli_log = tmp_path / "bulletin-cli.log"
    with cli_log.open("wb") as out:
        cli = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mailbot",
                "bulletin",
                "--period",
                period,
                "--send",
                "-c",
                str(office.config),
            ],
            env=office.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    kill_switch.arm(cli.pid, after=60)
    wait_killed("bulletin --send", cli, 180, lambda: cli_log.read_text(errors="replace"))
    assert len(kill_switch.messages) == 60

    daemon = daemons.start(office)
    kill_switch.arm(daemon.pid, after=150)
    wait_killed("the daemon", daemon.proc, 120, daemon.output)
    assert len(kill_switch.messages) == 150

    daemon = daemons.start(office)
    wait_until("260 bulletin copies", lambda: len(kill_switch.messages) >= 260, 120)
    daemon.terminate()
    # Re-running --send afterwards queues nothing and sends nothing.
    again = office.run("bulletin", "--period", period, "--send")
    assert ": 0 copies queued" in again.stdout, again.stdout
    assert_one_copy_each(kill_switch.messages)
    assert len(kill_switch.messages) == 260


def _bulletin_rows(db: Path) -> tuple[int, int]:
    """(bulletin copies in the outbox, bulletin records) as the SQLite file has them now."""
    if not db.exists():
        return 0, 0
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        try:
            copies = con.execute("SELECT count(*) FROM outbox WHERE kind = 'bulletin'").fetchone()[0]
            records = con.execute("SELECT count(*) FROM bulletin").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0, 0
    return int(copies), int(records)


@pytest.mark.slow
def test_bulletin_killed_while_queuing_its_copies_is_finished_by_the_next_run_once(
    tmp_path: Path, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    # Copies are queued in short transactions (intake is not locked out for the whole
    # bulletin) and the bulletin is recorded only after the last one: a kill in between
    # leaves no record, so the next run (or the daemon's catch-up) queues just the rest.
    office = office_for(tmp_path, imap_account, smtp_capture.url, extra="")
    period = last_month(dt.datetime.now(dt.UTC))
    db = office.root / "var" / "mailbot.db"
    cmd = [sys.executable, "-m", "mailbot", "bulletin", "--period", period, "--send", "-c", str(office.config)]
    proc = subprocess.Popen(cmd, env=office.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until("the first queued copies", lambda: _bulletin_rows(db)[0] >= 50, 180, every=0.01)
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr:
            proc.stderr.close()
    queued_before, records = _bulletin_rows(db)
    assert 50 <= queued_before < 260 and records == 0, (queued_before, records)
    assert not smtp_capture.messages, "nothing is sent before every copy is queued"

    again = office.run("bulletin", "--period", period, "--send")
    assert f": {260 - queued_before} copies queued" in again.stdout, again.stdout
    assert _bulletin_rows(db) == (260, 1)
    wait_until("260 bulletin copies", lambda: len(smtp_capture.messages) >= 260, 60)
    assert_one_copy_each(smtp_capture.messages)
    assert len(smtp_capture.messages) == 260


@pytest.mark.slow
def test_bulletin_due_while_down_goes_out_at_start_once_despite_a_kill(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    kill_switch: KillSwitchSmtp,
    daemons: Daemons,
) -> None:
    tz = dt.timezone(dt.timedelta(hours=8))
    # A clock pinned to the 1st of a month at 10:00 (the schedule fires at 09:00), in the past.
    base = dt.datetime.now(tz) - dt.timedelta(days=2)
    start = base.replace(day=1, hour=10, minute=0, second=0, microsecond=0)
    earlier = start - dt.timedelta(days=15)
    office = office_for(tmp_path, imap_account, kill_switch.url, extra="")
    # The office was in use last month: three submissions filed then.
    deliver(dovecot, imap_account, *submissions(3, "october", date=earlier))
    Office(office.root, {**office.env, "MAILBOT_NOW": earlier.isoformat()}).run("poll", "--once")
    assert len(kill_switch.messages) == 6
    kill_switch.clear()

    # The daemon comes back after the schedule's time: it issues last month's bulletin itself.
    daemon = daemons.start(office, MAILBOT_NOW=start.isoformat())
    kill_switch.arm(daemon.pid, after=100)
    wait_killed("the daemon", daemon.proc, 180, daemon.output)
    period = f"{earlier.year}-{earlier.month:02d}"
    assert f"bulletin {period} issued: 260 copies queued" in daemon.output()
    assert len(kill_switch.messages) == 100

    daemon = daemons.start(office, MAILBOT_NOW=start.isoformat())
    wait_until("260 bulletin copies", lambda: len(kill_switch.messages) >= 260, 120)
    daemon.terminate()
    assert "issued" not in daemon.output(), "a restart must not issue the bulletin again"
    assert_one_copy_each(kill_switch.messages)
    assert len(kill_switch.messages) == 260
    title = str(parse(kill_switch.messages[0].content)["Subject"])
    assert title.startswith("《政务信息工作通报》"), title


# -- 5. SIGTERM during a batch ------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_mid_batch_exits_within_5s_leaving_no_half_processed_mail(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    n = 300
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    dovecot.seed(imap_account[0], submissions(n, "term"))
    daemon = daemons.start(office)
    wait_until("intake progress", lambda: _more_than(office, 0), 60)
    took = daemon.terminate()
    assert took < 5, f"SIGTERM took {took:.1f} s"

    rows = messages_list(office)
    assert 0 < len(rows) < n, f"{len(rows)} filed: SIGTERM must land mid-batch for this test to mean anything"
    assert {r["disposition"] for r in rows} == {"item"}
    assert len(office.json("items", "list")) == len(rows)
    folders = folder_counts(dovecot, imap_account)
    assert (folders["INBOX"], folders["mailbot/processed"]) == (n - len(rows), len(rows))
    # Every filed mail has its receipt and review request either sent or waiting in the outbox.
    got = sent(smtp_capture.messages)
    queued = status(office)[1]["outbox"]["queued"]
    assert len(got["receipt"]) + len(got["review"]) + queued == 2 * len(rows)

    daemon = daemons.start(office)
    filed(office, n, 180, daemon)
    wait_until(f"{2 * n} mails sent", lambda: len(smtp_capture.messages) >= 2 * n, 120)
    daemon.terminate()
    got = sent(smtp_capture.messages)
    assert len(got["receipt"]) == n and twice(got["receipt"]) == 0
    assert len(got["review"]) == n and twice(got["review"]) == 0
    assert len({i["message_id"] for i in office.json("items", "list")}) == n


# -- 6. SIGHUP ----------------------------------------------------------------------------------


def test_sighup_reloads_the_config_without_a_restart(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    chief = "chief@example.org"
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    daemon = daemons.start(office)
    first, second = submissions(2, "hup")
    deliver(dovecot, imap_account, first)
    wait_until("the first review request", lambda: sent(smtp_capture.messages)["review"], 60)

    text = office.config.read_text(encoding="utf-8")
    changed = text.replace(f'reviewers = ["{REVIEWER}"]', f'reviewers = ["{chief}"]')
    assert changed != text
    office.config.write_text(changed, encoding="utf-8")
    daemon.proc.send_signal(signal.SIGHUP)
    wait_until("the reload", lambda: "configuration reloaded" in daemon.output(), 30)
    deliver(dovecot, imap_account, second)
    wait_until(
        "a review request to the new reviewer",
        lambda: any(m.rcpt_tos == (chief,) for m in smtp_capture.messages),
        60,
    )
    assert daemon.alive()
    daemon.terminate()

    reviews = [
        m.rcpt_tos for m in smtp_capture.messages if str(parse(m.content)["Subject"]).startswith("[待审#")
    ]
    assert sorted(reviews) == sorted([(REVIEWER,), (chief,)])


# -- 7. mailbot status --------------------------------------------------------------------------


def test_status_reports_health_and_bouncing_addresses(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    officer = OFFICERS[0][0]
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    code, report = status(office)
    assert (code, report["healthy"], report["last_poll"]) == (1, False, None)

    daemon = daemons.start(office)
    code, report = wait_until("a healthy status", lambda: (r := status(office))[0] == 0 and r, 60)
    assert report["healthy"] and report["last_poll"] and report["problems"] == []
    # Two hours later without a poll (the daemon's clock is real, the status clock pinned ahead).
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()
    code, stale = status(office, MAILBOT_NOW=later)
    assert code == 1 and not stale["healthy"] and stale["problems"], stale

    deliver(dovecot, imap_account, good())
    receipt_raw = wait_until(
        "the receipt",
        lambda: next((m.content for m in smtp_capture.messages if m.rcpt_tos == (officer,)), None),
        60,
    )
    deliver(dovecot, imap_account, dsn_bounce(parse(receipt_raw), officer))
    report = wait_until("the bounce in status", lambda: (r := status(office)[1])["bouncing"] and r, 60)
    assert report["bouncing"] == [officer]
    daemon.terminate()

    rows = messages_list(office)
    assert sorted(r["disposition"] for r in rows) == ["ignored", "item"]
    # The bounce itself is never answered.
    assert len(smtp_capture.messages) == 2


# -- 8. bulletin catch-up (pure) ----------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTHLY = "0 9 1 * *"


def at(text: str) -> dt.datetime:
    """An office-time moment, e.g. at("2026-11-01 10:00")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_catch_up_issues_every_month_missed_while_down_oldest_first() -> None:
    # Down from 25 September to 3 December: the bulletins of September, October and November are owed.
    due = bulletins_due(MONTHLY, SHANGHAI, at("2026-12-03 08:00"), last_issued="2026-08", first_use=at("2026-03-02 09:00"))
    assert due == ["2026-09", "2026-10", "2026-11"]


def test_catch_up_before_this_months_fire_time_still_owes_last_months_missed_one() -> None:
    # Back on 1 December at 08:00, before the 09:00 fire: November is not due yet, October is.
    due = bulletins_due(MONTHLY, SHANGHAI, at("2026-12-01 08:00"), last_issued="2026-09", first_use=at("2026-03-02 09:00"))
    assert due == ["2026-10"]
    assert bulletins_due(MONTHLY, SHANGHAI, at("2026-12-01 09:00"), last_issued="2026-09",
                         first_use=at("2026-03-02 09:00")) == ["2026-10", "2026-11"]


def test_catch_up_owes_nothing_once_issued_and_nothing_before_the_office_was_in_use() -> None:
    now = at("2026-12-05 12:00")
    assert bulletins_due(MONTHLY, SHANGHAI, now, last_issued="2026-11", first_use=at("2026-03-02 09:00")) == []
    assert bulletins_due(MONTHLY, SHANGHAI, now, last_issued=None, first_use=None) == []
    # First mail in October, nothing on record: October and November, not the months before.
    assert bulletins_due(MONTHLY, SHANGHAI, now, last_issued=None, first_use=at("2026-10-20 15:00")) == [
        "2026-10",
        "2026-11",
    ]
    # A first mail on 1 December (UTC 30 November 17:00) is a December mail for the office.
    first = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)
    assert bulletins_due(MONTHLY, SHANGHAI, now, last_issued=None, first_use=first) == []
    # Quarterly and yearly bulletins on record do not count as the last monthly one.
    assert bulletins_due(MONTHLY, SHANGHAI, now, last_issued="2026-Q3", first_use=at("2026-10-20 15:00")) == [
        "2026-10",
        "2026-11",
    ]


def test_catch_up_follows_the_schedule_not_the_calendar() -> None:
    first = at("2026-01-10 09:00")
    # Issued on the 3rd at 08:30: on the 2nd, November's is not due yet.
    assert bulletins_due("30 8 3 * *", SHANGHAI, at("2026-12-02 23:00"), last_issued="2026-10", first_use=first) == []
    assert bulletins_due("30 8 3 * *", SHANGHAI, at("2026-12-03 08:30"), last_issued="2026-10", first_use=first) == [
        "2026-11"
    ]
    # A schedule that never fires (30 February) owes nothing, ever.
    assert bulletins_due("0 9 30 2 *", SHANGHAI, at("2027-06-01 10:00"), last_issued=None, first_use=first) == []
    # A schedule firing daily issues each month's bulletin once.
    assert bulletins_due("0 9 * * *", SHANGHAI, at("2026-12-20 10:00"), last_issued="2026-09", first_use=first) == [
        "2026-10",
        "2026-11",
    ]


# -- 9. urgent items are sent at once ---------------------------------------------------------


class WakeRecorder(threading.Event):
    """The daemon's outbox wake-up, noting how many mails were filed each time it is set."""

    def __init__(self, db: Path) -> None:
        super().__init__()
        self.db = db
        self.filed_at_wake: list[int] = []

    def set(self) -> None:
        self.filed_at_wake.append(filed_count(self.db))
        super().set()


def filed_count(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        return int(con.execute("SELECT count(*) FROM message WHERE disposition != 'failed'").fetchone()[0])


def test_an_urgent_item_wakes_the_sender_before_the_rest_of_a_backlog_is_filed(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         extra=NO_BULLETIN)
    sender, unit = OFFICERS[0]
    urgent = samples.submission(
        sender=sender,
        subject="【紧急】" + samples.labelled_subject("越秀区某路段发生路面塌陷", unit, "张三", "李四", "020-83123456"),
        body="今日上午，越秀区某路段发生路面塌陷，无人员伤亡，现场已封闭处置。",
        date=dt.datetime.now(dt.UTC),
    )
    # A backlog: the urgent mail first, 30 ordinary ones behind it, all fetched in one pass.
    dovecot.seed(address, [urgent, *submissions(30, "backlog")])
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", password)
    rt = Runtime(load_config(office.config))
    rt.engine  # noqa: B018 - creates the database the recorder reads
    wake = WakeRecorder(office.root / "var" / "mailbot.db")
    daemon = Daemon(office.config, wake_outbox=wake)
    # The intake loop alone, on a thread: what the outbox thread would be told, and when.
    intake = threading.Thread(target=daemon._intake_loop, args=(rt, rt.mailboxes[0]), daemon=True)
    intake.start()
    try:
        wait_until("31 mails filed", lambda: filed_count(wake.db) >= 31, 120)
    finally:
        daemon.stop.set()
        daemon.interrupt.set()
        intake.join(30)
        rt.close()
    # Woken as soon as the urgent item was committed, not after the 30 others.
    assert wake.filed_at_wake[0] == 1, wake.filed_at_wake
