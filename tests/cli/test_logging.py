"""What the operator reads in the log: JSON lines that name the mail, and one line per SMTP outage.

An outage of the SMTP server must not fill the journal with a warning per try: the
first failure and the recovery are logged (with how many mails waited), the tries in
between only at DEBUG. Checked with the daemon (`run --log-format json`) and with
the cron deployment (`poll --once` every few minutes, human format).
"""

from __future__ import annotations

import contextlib
import json
import logging
import mailbox
import signal
import sqlite3
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailbot.cli.logs import JsonFormatter, TextFormatter
from mailbot.shell.db.store import open_engine, session_scope
from mailbot.shell.outbox import deliver, enqueue
from mailbot.shell.transport import open_transport
from tests.app.test_intake import good
from tests.office import Office, make_office
from tests.servers import SmtpCapture
from tests.system.test_daemon import NO_BULLETIN, status, wait_until
from tests.system.test_postgres import postgres  # noqa: F401  (the fixture, for the PostgreSQL case)

pytestmark = pytest.mark.servers


def _office(tmp_path: Path, smtp: SmtpCapture) -> tuple[Office, mailbox.Maildir]:
    inbox = tmp_path / "inbox"
    office = make_office(
        tmp_path / "office", mailbox_url=f"maildir://{inbox}", smtp_url=smtp.url, urgent=(), extra=NO_BULLETIN
    )
    office.run("messages", "list")  # creates the database before the daemon and the probes race
    return office, mailbox.Maildir(str(inbox), create=True)


def _tries(office: Office) -> int:
    """Send attempts so far, as the outbox rows count them."""
    db = office.root / "var" / "mailbot.db"
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        return int(con.execute("SELECT coalesce(sum(attempts), 0) FROM outbox").fetchone()[0])


def _outage_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [ln for ln in lines if ln["level"] in ("WARNING", "ERROR") and "SMTP" in ln["message"]]


def test_daemon_json_log_names_the_mail_and_logs_an_smtp_outage_once(
    tmp_path: Path, smtp_capture: SmtpCapture
) -> None:
    office, inbox = _office(tmp_path, smtp_capture)
    smtp_capture.stop()
    inbox.add(good())
    log_path = tmp_path / "daemon.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "run", "--log-format", "json", "-c", str(office.config)],
            env=office.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # The receipt and the review request wait; the sender tries again and again.
        wait_until("4 failed send attempts", lambda: _tries(office) >= 4, 90)
        smtp_capture.start()
        wait_until("2 mails sent after the outage", lambda: len(smtp_capture.messages) >= 2, 60)
        wait_until("an empty outbox", lambda: status(office)[1]["outbox"]["queued"] == 0, 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    text = log_path.read_text(encoding="utf-8")
    assert proc.returncode == 0, text[-3000:]

    lines = [json.loads(ln) for ln in text.splitlines() if ln.strip()]  # every line is one JSON object
    filed = [ln for ln in lines if "filed as" in ln["message"]]
    assert len(filed) == 1, text
    item = office.json("items", "list")[0]
    assert filed[0]["item"] == item["id"] and filed[0]["message_id"] == item["message_id"]

    outage = _outage_lines(lines)
    assert len(outage) == 2, f"{_tries(office)} tries:\n" + "\n".join(ln["message"] for ln in outage)
    began, ended = outage
    assert began["level"] == "WARNING" and "not accepting mail" in began["message"]
    assert began["item"] == item["id"] and began["message_id"].startswith("mb.")
    assert "SMTP server reachable again" in ended["message"] and ended["message"].endswith("; 2 mail waiting")


def test_cron_polls_during_an_outage_log_it_once_in_the_human_format(
    tmp_path: Path, smtp_capture: SmtpCapture
) -> None:
    office, inbox = _office(tmp_path, smtp_capture)
    smtp_capture.stop()
    stderr = ""
    for n in range(3):  # three cron runs, each filing a mail and failing to send its receipt
        inbox.add(good(message_id=f"cron-{n}@gz.example.org"))
        stderr += office.run("poll", "--once").stderr
    assert _tries(office) == 3
    smtp_capture.start()
    stderr += office.run("poll", "--once").stderr
    assert len(smtp_capture.messages) >= 1

    warnings = [ln for ln in stderr.splitlines() if " WARNING " in ln and "SMTP" in ln]
    assert len(warnings) == 2, stderr
    assert "not accepting mail" in warnings[0] and "message_id=mb." in warnings[0]
    assert "item=20" in warnings[0]  # the item number, 2026-0001 …
    assert "SMTP server reachable again" in warnings[1]


def _one_pass(url: str, smtp: SmtpCapture, tmp_path: Path, n: int) -> None:
    """What one cron run does to the outbox, as a process of its own: queue mail `n`, deliver."""
    engine = open_engine(url)
    transport = open_transport(smtp.url, None, base_dir=tmp_path)
    try:
        msg = EmailMessage()
        msg["Message-ID"], msg["Subject"] = f"<mb.receipt.{n}@mailbot.test>", f"回执 {n}"
        msg.set_content("已收到。")
        with session_scope(engine) as s:
            enqueue(
                s,
                dedupe_key=f"receipt:2026-000{n}",
                kind="receipt",
                message=msg,
                rcpt_to=["qx01@gz.example.org"],
                mail_from="inbox@example.org",
                item_id=f"2026-000{n}",
            )
        deliver(engine, transport)
    finally:
        transport.close()
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_outage_across_separate_passes_is_one_warning_and_its_end_another(
    backend: str,
    tmp_path: Path,
    smtp_capture: SmtpCapture,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = (
        request.getfixturevalue("postgres").create_database("outage")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'mailbot.db'}"
    )
    caplog.set_level(logging.DEBUG, logger="mailbot.shell.outbox")
    smtp_capture.stop()
    for n in (1, 2, 3):
        _one_pass(url, smtp_capture, tmp_path, n)
    smtp_capture.start()
    _one_pass(url, smtp_capture, tmp_path, 4)  # mail filed after the server came back

    outbox = [r for r in caplog.records if r.name == "mailbot.shell.outbox"]
    warnings = [r for r in outbox if r.levelno >= logging.WARNING]
    assert [r.getMessage().split(",")[0].split(" after")[0] for r in warnings] == [
        "outbox: SMTP server not accepting mail",
        "outbox: SMTP server reachable again",
    ]
    began, ended = warnings
    assert (began.message_id, began.item) == ("mb.receipt.1@mailbot.test", "2026-0001")  # type: ignore[attr-defined]
    assert ended.getMessage().endswith("; 4 mail waiting")
    assert len([r for r in outbox if r.levelno == logging.DEBUG and "deferred again" in r.getMessage()]) == 2
    # The new mail went out; the three deferred ones wait for their backoff.
    assert [b"mb.receipt.4@" in m.content for m in smtp_capture.messages] == [True]


def test_formatters_add_message_id_and_item_only_when_the_line_is_about_a_mail() -> None:
    about = logging.LogRecord("mailbot.shell.outbox", logging.WARNING, __file__, 1, "sent %s", ("x",), None)
    about.message_id, about.item = "mb.receipt.1@mailbot.test", "2026-0012"
    plain = logging.LogRecord("mailbot", logging.WARNING, __file__, 1, "stopped", (), None)

    assert json.loads(JsonFormatter().format(about)) | {"time": ""} == {
        "time": "",
        "level": "WARNING",
        "logger": "mailbot.shell.outbox",
        "message": "sent x",
        "message_id": "mb.receipt.1@mailbot.test",
        "item": "2026-0012",
    }
    assert "message_id" not in json.loads(JsonFormatter().format(plain))
    assert (
        TextFormatter().format(about).endswith("sent x [message_id=mb.receipt.1@mailbot.test item=2026-0012]")
    )
    assert TextFormatter().format(plain).endswith("mailbot: stopped")
