"""Latency: one mail APPENDed while `mailbot run` idles in IDLE → its receipt at the SMTP server.

This is what an officer feels: how long after sending until the receipt
arrives. The baseline, measured in the same run, is the IDLE notification
delay alone (Dovecot tells an idling client about another session's APPEND
about 0.5 s later, notes/limits.md), taken with a bare imapclient on a second
connection: nothing the daemon does can come in under it.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    REPO,
    Row,
    Section,
    Size,
    bench_env,
    log,
    make_mail,
    median,
    officer_units,
    percentile,
)


def daemon_available() -> bool:
    """Whether this checkout has `mailbot run` (the daemon command)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mailbot", "run", "--help"],
        cwd=REPO,
        env=bench_env(),
        capture_output=True,
        timeout=60,
    )
    return proc.returncode == 0


def _receipt_for(smtp: Any, message_id: str, seen: int, timeout: float) -> int:
    """Wait until a mail answering `message_id` reaches the capture; returns the new message count."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no receipt for {message_id} within {timeout} s")
        got = smtp.wait_for(seen + 1, timeout=remaining)
        for m in got[seen:]:
            msg = email.message_from_bytes(m.content)
            if message_id in str(msg.get("In-Reply-To", "")):
                return len(got)
        seen = len(got)


def _settle(smtp: Any, quiet: float = 2.0, timeout: float = 180.0) -> int:
    """Wait until the capture has received nothing for `quiet` seconds; returns the message count."""
    deadline = time.monotonic() + timeout
    count, since = len(smtp.messages), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = len(smtp.messages)
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return count


def idle_delay(dovecot: Any, rounds: int) -> list[float]:
    """Seconds from APPEND on one connection to the EXISTS seen by another connection in IDLE."""
    from imapclient import IMAPClient

    address, password = dovecot.add_user()
    out: list[float] = []
    with (
        IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as idler,
        IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as writer,
    ):
        idler.login(address, password)
        writer.login(address, password)
        idler.select_folder("INBOX")
        for i in range(rounds):
            idler.idle()
            time.sleep(0.05)  # let the server enter IDLE, as the daemon's would have
            t0 = time.perf_counter()
            writer.append("INBOX", f"Subject: t{i}\r\n\r\nx\r\n".encode())
            while True:
                responses = idler.idle_check(timeout=5)
                if any(len(r) > 1 and r[1] == b"EXISTS" for r in responses):
                    break
            out.append(time.perf_counter() - t0)
            idler.idle_done()
    return out


def run(size: Size, dovecot: Any, smtp: Any) -> Section:
    """`size.latency_rounds` APPEND → receipt round trips against a running daemon, and the IDLE baseline."""
    from imapclient import IMAPClient

    from tests.office import make_office

    sec = Section("latency", "APPEND → receipt while the daemon idles")
    if not daemon_available():
        sec.skipped = "skipped: mailbot run not available"
        return sec
    base = idle_delay(dovecot, min(size.latency_rounds, 10))
    address, password = dovecot.add_user()
    rng = random.Random(5)
    units = officer_units()
    with tempfile.TemporaryDirectory(prefix="mailbot-latency-") as tmp:
        tmp = os.environ.get("BENCH_KEEP_DIR", tmp)  # keep the daemon log and DB for debugging
        office = make_office(
            Path(tmp) / "office",
            mailbox_url=dovecot.url_for(address),
            smtp_url=smtp.url,
            imap_password=password,
            # No monthly bulletin during the measurement: a fresh office would catch up on last month's.
            extra='[bulletin]\nschedule = "0 9 31 12 *"\n',
        )
        logfile = (Path(tmp) / "daemon.log").open("w")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "run", "-c", str(office.config)],
            cwd=REPO, env=office.env, stdout=logfile, stderr=subprocess.STDOUT,
        )  # fmt: skip
        times: list[float] = []
        try:
            smtp.clear()
            seen = 0
            with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
                c.login(address, password)
                # The first mail proves the daemon is up (and warms it): not timed.
                for i in range(size.latency_rounds + 1):
                    raw = make_mail(rng, units, dt.datetime.now(dt.UTC), docx_cache={})
                    mid = str(email.message_from_bytes(raw)["Message-ID"]).strip("<>")
                    time.sleep(1.0 if i else 0)  # let the daemon finish its pass and go back to IDLE
                    t0 = time.perf_counter()
                    c.append("INBOX", raw)
                    seen = _receipt_for(smtp, mid, seen, timeout=120 if i == 0 else 30)
                    if i:
                        times.append(time.perf_counter() - t0)
                    else:
                        # A fresh office's daemon may first catch up on a missed monthly bulletin
                        # (hundreds of copies): let that drain before timing anything.
                        before = seen
                        seen = _settle(smtp)
                        if seen - before > 5:  # beyond the first mail's own review request
                            sec.notes.append(
                                f"the daemon sent {seen - before} other mails at start-up (catch-up)"
                            )
        except (TimeoutError, AssertionError) as exc:
            logfile.flush()
            sec.notes.append(f"daemon failed: {exc}; log tail: {Path(logfile.name).read_text()[-1500:]}")
        finally:
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
            logfile.close()
    if times:
        log(f"latency: median {median(times):.3f} s, IDLE alone {median(base):.3f} s")
        sec.rows.append(
            Row(
                "latency",
                f"APPEND → receipt, median of {len(times)}",
                median(times),
                median(base),
                "s",
                (),
                "baseline: IDLE notification alone",
            )
        )
        sec.rows.append(
            Row("latency", "APPEND → receipt, p95", percentile(times, 95), percentile(base, 95), "s")
        )
    return sec
