"""Nothing lost, nothing twice: `poll --once` killed with SIGKILL at random moments, then restarted.

500 submissions wait in a real Dovecot inbox. The intake process is started,
killed at a random point (measured in progress: mails archived, mails sent, or
a moment of start-up, so the test kills as often on a fast machine as on a
slow one), restarted, and so on until a run completes. After
that every mail must be filed exactly once, `messages list` must account for
all 500, and every receipt must have reached the SMTP server.

SMTP itself cannot be exactly-once: a kill between the server's "250 OK" and
our commit of "sent" makes the next run send that mail again, with the same
Message-ID (docs/architecture.md). The test therefore also asserts that such
duplicates are rare: never more than the number of kills that came while the
killed run was sending (a kill during intake never resends anything).
"""

from __future__ import annotations

import collections
import datetime as dt
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mailbot.demo import samples
from tests.office import REVIEWER, make_office, parse
from tests.servers import Dovecot, SmtpCapture

N = 500


def _mails(rng: random.Random) -> list[bytes]:
    officers = [("QX01", "越秀区政府"), ("QX02", "荔湾区政府"), ("BA01", "市发改委"), ("BA05", "市公安局"),
                ("ZA04", "广州海关")]
    now = dt.datetime.now(dt.UTC)
    out = []
    for i in range(N):
        uid, name = officers[i % len(officers)]
        topic = samples.TOPICS[i % len(samples.TOPICS)]
        title = f"{name}{topic}工作进展第{i}期"
        out.append(
            samples.submission(
                sender=f"{uid.lower()}@gz.example.org",
                subject=samples.labelled_subject(title, name, "张三", "李四", "020-83123456"),
                body=samples.body_text(name, topic, rng),
                date=now - dt.timedelta(minutes=N - i),
                message_id=f"<crash-{i}@gz.example.org>",
                charset="gbk" if i % 4 == 0 else "utf-8",
            )
        )
    return out


def _archived(root: Path) -> int:
    """How many raw mails the archive holds (each is fsynced before it is processed)."""
    return sum(1 for _ in root.glob("*/*.eml")) if root.exists() else 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_at_random_points_loses_and_doubles_nothing(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    rng = random.Random(4242)
    address, password, url = imap_account
    dovecot.seed(address, _mails(rng))
    office = make_office(tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         urgent=())
    cmd = [sys.executable, "-m", "mailbot", "poll", "--once", "-c", str(office.config)]
    archive = office.root / "var" / "archive"
    kills = 0
    finished = False
    # Kills are triggered by progress, not by wall-clock time: a fast machine must
    # not finish the whole inbox before the first kill, nor a slow one be killed
    # before it has done anything. Each run is killed after a random number of
    # newly archived mails (mid-intake), of sent mails (mid-delivery), or a random
    # moment of its start-up (connect, migrate, recovery of the previous kill),
    # or after either kind of progress, whichever phase the run is in.
    # The first four runs hit each kind of moment at least once; the rest are random.
    modes = ["intake", "startup", "intake", "delivery"] + [
        rng.choice(("progress", "progress", "progress", "startup")) for _ in range(12)]
    killed_in: collections.Counter[str] = collections.Counter()
    kills_while_sending = 0
    for mode in modes:
        archived0, sent0 = _archived(archive), len(smtp_capture.messages)
        target = rng.randint(5, 60)
        startup_delay = rng.uniform(0.05, 1.5)
        started = time.monotonic()
        proc = subprocess.Popen(cmd, env=office.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while proc.poll() is None:
            if mode == "intake":
                due = _archived(archive) - archived0 >= target
            elif mode == "delivery":
                due = len(smtp_capture.messages) - sent0 >= target
            elif mode == "progress":  # whichever phase the run is in
                due = _archived(archive) - archived0 + len(smtp_capture.messages) - sent0 >= target
            else:
                due = time.monotonic() - started >= startup_delay
            if due:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                killed_in[mode] += 1
                # A resend needs a kill after the server accepted a mail of this run and
                # before the run recorded it as sent: only runs that had sent something.
                kills_while_sending += len(smtp_capture.messages) > sent0
                break
            if time.monotonic() - started > 600:
                proc.kill()
                raise AssertionError("poll --once neither finished nor progressed in 600 s")
            time.sleep(0.01)
        else:
            assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
            finished = True
            break
        if proc.stderr:
            proc.stderr.close()
    if not finished:  # the kills never let a run finish: one last run without a kill
        subprocess.run(cmd, env=office.env, check=True, capture_output=True, timeout=600)
    # One more pass: whatever the last killed run left queued is sent now.
    office.run("poll", "--once")
    assert {"intake", "startup", "delivery"} <= set(killed_in), f"killed only in {dict(killed_in)}"
    assert kills >= 4, "the test must actually kill the intake several times"

    items = office.json("items", "list")
    assert len(items) == N
    assert len({i["message_id"] for i in items}) == N
    assert {i["status"] for i in items} == {"pending"}
    messages = office.json("messages", "list")
    assert len(messages) == N
    assert collections.Counter(m["disposition"] for m in messages) == {"item": N}

    deadline = time.monotonic() + 30
    while len(smtp_capture.messages) < 2 * N and time.monotonic() < deadline:
        time.sleep(0.2)
    receipts: collections.Counter[str] = collections.Counter()
    reviews: collections.Counter[str] = collections.Counter()
    for m in smtp_capture.messages:
        msg = parse(m.content)
        mid = str(msg["Message-ID"])
        if m.rcpt_tos == (REVIEWER,):
            reviews[mid] += 1
        else:
            receipts[mid] += 1
    assert len(receipts) == N, f"{len(receipts)} distinct receipts for {N} items"
    assert len(reviews) == N
    duplicates = sum(c - 1 for c in receipts.values()) + sum(c - 1 for c in reviews.values())
    assert duplicates <= kills_while_sending, f"{duplicates} duplicate sends for {kills_while_sending} kills while sending"
