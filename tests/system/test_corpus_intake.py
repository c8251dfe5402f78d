"""Every real-world corpus mail through the full intake: real Dovecot in, real SMTP out.

The 386 files of ../shared/corpus/real-world (legacy Chinese charsets, broken MIME,
bounces, TNEF, auto-replies …) are put into the mailbox and one `mailbot poll --once`
runs over all of them, as the operator's cron job would. What a person would check:
nothing crashed, every mail is listed with a disposition, the inbox is empty, and no
bounce or auto-reply was answered. The table of this run must equal docs/robustness.md
(MAILBOT_UPDATE_DOCS=1 rewrites it), as docs/config.md must equal the config reference.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import corpus_report
from tests.app.test_intake import folder_counts
from tests.office import make_office, parse
from tests.servers import Dovecot, SmtpCapture

pytestmark = [pytest.mark.servers, corpus_report.needs_corpus]


def test_every_corpus_mail_is_accounted_for_and_no_bounce_is_answered(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    files = corpus_report.corpus_files()
    assert len(files) == 386, f"corpus not found or changed at {corpus_report.CORPUS}"
    cats = corpus_report.categories()
    address, password, url = imap_account
    office = make_office(
        tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password
    )
    dovecot.seed(address, (f.read_bytes() for f in files))

    proc = office.run("poll", "--once", check=False, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "poll: 386 mail" in proc.stdout

    messages = office.json("messages", "list")
    assert len(messages) == 386  # one row per mail, none lost, none filed twice
    archive = office.root / "var" / "archive"
    archived = {
        str(m["sha256"]): (archive / m["sha256"][:2] / f"{m['sha256']}.eml").read_bytes() for m in messages
    }
    captured = smtp_capture.messages
    sent = [parse(c.content) for c in captured]
    replies = [
        (str(msg["In-Reply-To"] or "").strip().strip("<>"), c.rcpt_tos[0])
        for msg, c in zip(sent, captured, strict=True)
    ]
    outcomes = corpus_report.tabulate(files, cats, messages, archived, replies)

    table = corpus_report.render(outcomes)
    if os.environ.get("MAILBOT_UPDATE_DOCS") == "1":
        corpus_report.DOC.write_text(table, encoding="utf-8")

    lost = [(o.file, o.disposition) for o in outcomes if o.disposition in ("unhandled", "failed")]
    assert lost == []
    answered = [
        (o.file, o.category) for o in outcomes if o.category in corpus_report.NEVER_ANSWER and o.answered
    ]
    assert answered == []
    # Every mail mailbot sent answers one corpus mail, is marked automatic and goes to a person.
    known = {str(m["message_id"]) for m in messages}
    senders = {str(m["from"]) for m in messages if str(m["message_id"]).endswith(corpus_report.NO_MESSAGE_ID)}
    for msg, (ref, to) in zip(sent, replies, strict=True):
        assert (ref in known) if ref else (to.lower() in senders), (ref, to)
        assert msg["Auto-Submitted"] == "auto-replied"
        local = str(msg["To"]).split("@")[0].lower()
        assert local not in {"mailer-daemon", "postmaster"}
    counts = folder_counts(dovecot, imap_account)
    assert counts["INBOX"] == 0
    assert sum(counts.get(f"mailbot/{f}", 0) for f in ("processed", "refused", "ignored")) == 386
    # The published table is this run's, not an older one: it has no timestamps, so any
    # difference is a change in what mailbot does with some corpus mail.
    committed = corpus_report.DOC.read_text(encoding="utf-8") if corpus_report.DOC.exists() else ""
    assert committed == table, (
        "docs/robustness.md differs from this run's table: run `.venv/bin/python -m tests.corpus_report`"
    )
