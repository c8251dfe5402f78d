"""mailbot on PostgreSQL (SPEC §7): the whole intake, then two daemons sharing one mailbox and one database.

Several daemons must never file one mail twice nor send one mail twice. Two
`mailbot run` processes work through 1,000 mails waiting in one Dovecot inbox,
against one throwaway PostgreSQL cluster (tests/pg.py), and the result is
judged as an operator would: `messages list`, `items list`, and what reached
the SMTP server. docs/architecture.md ("Several daemons on PostgreSQL") says
why it holds.
"""

from __future__ import annotations

import collections
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.app.test_intake import deliver, folder_counts, good
from tests.office import REVIEWER, Office, make_office
from tests.pg import INSTALL_HINT, Postgres, pg_bin
from tests.servers import Dovecot, SmtpCapture
from tests.system.test_daemon import (
    NO_BULLETIN,
    OFFICERS,
    Daemons,
    filed,
    messages_list,
    sent,
    submissions,
    twice,
    wait_until,
)


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL cluster for this module; each test takes a database of its own.

    Fails (never skips) when PostgreSQL is missing: CI installs it.
    """
    if pg_bin() is None or shutil.which("runuser") is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        # `pg_ctl stop -m fast` returns in well under a second; tests.pg's stop() sends SIGINT
        # to `runuser`, which does not pass it on, and so waits 15 s before its SIGKILL.
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(server.bin / "pg_ctl"),
                "-D",
                str(server.data),
                "stop",
                "-m",
                "fast",
            ],
            capture_output=True,
            timeout=60,
        )
        server.cleanup()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    ds = Daemons(tmp_path / "logs")
    try:
        yield ds
    finally:
        ds.cleanup()


def pg_office(
    tmp_path: Path,
    postgres: Postgres,
    imap_account: tuple[str, str, str],
    smtp: SmtpCapture,
    **kw: object,
) -> Office:
    _, password, url = imap_account
    database_url = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
    return make_office(
        tmp_path / "office",
        mailbox_url=url,
        smtp_url=smtp.url,
        imap_password=password,
        database_url=database_url,
        urgent=(),
        extra=NO_BULLETIN,
        **kw,  # type: ignore[arg-type]
    )


def test_intake_and_a_decision_on_postgresql(
    tmp_path: Path,
    postgres: Postgres,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
) -> None:
    office = pg_office(tmp_path, postgres, imap_account, smtp_capture)
    officer = OFFICERS[0][0]
    accepted = good(message_id="<pg-1@gz.example.org>")
    resent = good(message_id="<pg-1@gz.example.org>", mailer="Microsoft Outlook 16.0")
    stranger = good(sender="stranger@elsewhere.example.com", message_id="<pg-2@elsewhere.example.com>")
    deliver(dovecot, imap_account, accepted, resent, stranger)
    out = office.run("poll", "--once")
    assert "poll: 3 mail" in out.stdout, out.stdout

    rows = messages_list(office)
    assert sorted(r["disposition"] for r in rows) == ["ignored", "item", "refused"]
    items = office.json("items", "list")
    assert sorted(i["status"] for i in items) == ["pending", "refused"]
    item = next(i for i in items if i["status"] == "pending")
    assert item["unit"] == "QX01"
    office.run("decide", item["id"], "采用", "--by", REVIEWER)
    assert {i["id"]: i["status"] for i in office.json("items", "list")}[item["id"]] == "adopted"

    wait_until("receipt, review request and refusal", lambda: len(smtp_capture.messages) >= 3, 30)
    rcpts = collections.Counter(m.rcpt_tos for m in smtp_capture.messages)
    assert rcpts[(officer,)] >= 1 and rcpts[(REVIEWER,)] == 1
    assert rcpts[("stranger@elsewhere.example.com",)] == 1
    assert folder_counts(dovecot, imap_account)["INBOX"] == 0


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_two_daemons_on_one_mailbox_and_one_database_do_everything_once(
    tmp_path: Path,
    postgres: Postgres,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    n = 1000
    # Receipts only (no reviewers): 1,000 outgoing mails to count, half the sending time.
    office = pg_office(tmp_path, postgres, imap_account, smtp_capture, reviewers=())
    office.run("messages", "list")  # schema and units first (see the report on store.sync_units)
    dovecot.seed(imap_account[0], submissions(n, "pg"))
    first, second = daemons.start(office), daemons.start(office)

    rows = filed(office, n, 300, first)
    wait_until(f"{n} receipts", lambda: len(smtp_capture.messages) >= n, 120)
    assert second.alive(), second.output()
    first.terminate()
    second.terminate()

    assert len(rows) == n and collections.Counter(r["disposition"] for r in rows) == {"item": n}
    assert len({r["message_id"] for r in rows}) == n
    items = office.json("items", "list")
    assert len(items) == n and len({i["message_id"] for i in items}) == n
    assert len({i["id"] for i in items}) == n
    got = sent(smtp_capture.messages)
    assert len(got["receipt"]) == n, f"{len(got['receipt'])} distinct receipts for {n} mails"
    assert twice(got["receipt"]) == 0, "a receipt went out twice"
    assert len(smtp_capture.messages) == n
    # Both daemons really worked (else this would only test one).
    for d in (first, second):
        assert "filed as" in d.log.read_text(errors="replace"), f"daemon {d.pid} filed nothing"
    counts = folder_counts(dovecot, imap_account)
    assert counts["INBOX"] == 0
    # Each mail moved once: two daemons never race to move the same message (that copies it twice).
    assert counts["mailbot/processed"] == n
