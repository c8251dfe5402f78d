"""Housekeeping: mail sent more than 30 days ago keeps its sending record but not its bytes;
the SQLite WAL is checkpointed. Run by the daemon's scheduler (daily, and at start)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

from sqlmodel import col, select

from mailbot.app.housekeeping import checkpoint, housekeep
from mailbot.shell.db.models import OutboxRow, OutboxStatus
from mailbot.shell.db.store import open_engine, session_scope
from tests.app.test_intake import deliver, good
from tests.office import Office
from tests.servers import Dovecot, SmtpCapture
from tests.system.test_daemon import Daemons, office_for, wait_until

NOW = dt.datetime(2026, 11, 20, 3, 30, tzinfo=dt.UTC)
RAW = b"Subject: x\r\n\r\n" + b"a bulletin copy " * 1000


def row(key: str, status: OutboxStatus, sent_days_ago: float | None) -> OutboxRow:
    sent_at = NOW - dt.timedelta(days=sent_days_ago) if sent_days_ago is not None else None
    return OutboxRow(
        dedupe_key=key,
        message_id=f"mb.{key}@mailbot.test",
        kind="bulletin",
        mail_from="inbox@example.org",
        rcpt_to=[f"{key}@gz.example.org"],
        subject=f"《政务信息工作通报》{key}",
        raw=RAW,
        status=status,
        created_at=NOW - dt.timedelta(days=40),
        sent_at=sent_at,
    )


def test_old_sent_mail_loses_its_bytes_and_keeps_its_record(tmp_path: Path) -> None:
    db = tmp_path / "mailbot.db"
    engine = open_engine(f"sqlite:///{db}")
    with session_scope(engine) as s:
        s.add(row("old-sent", OutboxStatus.SENT, 31))
        s.add(row("recent-sent", OutboxStatus.SENT, 29))
        s.add(row("old-queued", OutboxStatus.QUEUED, None))
        s.add(row("old-dead", OutboxStatus.DEAD, 35))

    report = housekeep(engine, NOW)
    assert report.emptied == 1 and report.checkpointed
    with session_scope(engine) as s:
        rows = {r.dedupe_key: r for r in s.exec(select(OutboxRow).order_by(col(OutboxRow.id))).all()}
        sizes = {k: len(r.raw) for k, r in rows.items()}
        old = rows["old-sent"]
        assert (old.subject, old.message_id, old.rcpt_to, old.status) == (
            "《政务信息工作通报》old-sent",
            "mb.old-sent@mailbot.test",
            ["old-sent@gz.example.org"],
            OutboxStatus.SENT,
        )
        assert old.sent_at is not None
    # Queued mail may still go out, refused mail may need a look: both keep their bytes.
    assert sizes == {"old-sent": 0, "recent-sent": len(RAW), "old-queued": len(RAW), "old-dead": len(RAW)}
    assert housekeep(engine, NOW).emptied == 0  # nothing twice
    # The checkpoint leaves an empty WAL file behind.
    assert (db.parent / "mailbot.db-wal").stat().st_size == 0
    engine.dispose()


def test_checkpoint_is_sqlite_only(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert checkpoint(engine)
    engine.dispose()


def test_the_daemon_empties_the_bytes_of_mail_sent_over_30_days_ago(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    office = office_for(tmp_path, imap_account, smtp_capture.url)
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    assert len(smtp_capture.messages) == 2  # the receipt and the review request
    db = office.root / "var" / "mailbot.db"
    assert sizes(db) == [("receipt", True), ("review", True)]

    # The daemon of 31 days later tidies up as it starts.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=31)).isoformat()
    daemon = daemons.start(Office(office.root, office.env), MAILBOT_NOW=later)
    wait_until("emptied outbox bytes", lambda: sizes(db) == [("receipt", False), ("review", False)], 30)
    daemon.terminate()
    # The sending record stays: `status` still counts nothing queued, and nothing went out again.
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = con.execute("SELECT kind, status, subject, message_id FROM outbox ORDER BY id").fetchall()
    assert [(k, st) for k, st, _, _ in rows] == [("receipt", "sent"), ("review", "sent")]
    assert all(subject and mid for _, _, subject, mid in rows)
    assert len(smtp_capture.messages) == 2


def sizes(db: Path) -> list[tuple[str, bool]]:
    """(kind, still has its bytes) of every outbox row."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as con:
        rows = con.execute("SELECT kind, length(raw) FROM outbox ORDER BY id").fetchall()
    return [(kind, size > 0) for kind, size in rows]
