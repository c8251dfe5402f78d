"""A mail whose processing keeps failing stays in the inbox, is retried, and after
`max_attempts` goes to the failed folder, listed with its error; the pass goes on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.app.test_intake import deliver, folder_counts, good
from tests.office import Office, make_office
from tests.servers import Dovecot, SmtpCapture


def test_failing_mail_is_retried_then_moved_to_the_failed_folder(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         urgent=())
    text = office.config.read_text(encoding="utf-8").replace("poll_interval = 1\n", "poll_interval = 1\nmax_attempts = 2\n")
    office.config.write_text(text, encoding="utf-8")
    # A broken installation: the mail templates are missing, so no receipt can be composed.
    broken = tmp_path / "no-templates"
    broken.mkdir()
    office.env["MAILBOT_TEMPLATES"] = str(broken)
    deliver(dovecot, imap_account, good())

    first = office.run("poll", "--once", check=False)
    assert first.returncode == 1
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "failed" and "TemplateNotFound" in msg["reason"] and msg["attempts"] == 1
    assert folder_counts(dovecot, imap_account)["INBOX"] == 1  # still there, to be retried
    assert office.json("items", "list") == []  # nothing half-filed

    second = office.run("poll", "--once", check=False)
    assert second.returncode == 1 and "moved to mailbot/failed" in second.stderr
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "failed" and msg["attempts"] == 2
    counts = folder_counts(dovecot, imap_account)
    assert counts["INBOX"] == 0 and counts["mailbot/failed"] == 1
    status = office.run("status", "--json", check=False)
    assert '"failed_mails": 1' in status.stdout
    assert smtp_capture.messages == []

    # The operator is told: the health check fails, naming the mail and why.
    report = json.loads(status.stdout)
    assert status.returncode == 1 and report["failed_last_24h"] == 1
    (listed,) = report["failed_newest"]
    assert listed["message_id"] == msg["message_id"] and "TemplateNotFound" in listed["reason"]
    assert listed["in_failed_folder"] and listed["attempts"] == 2
    (problem,) = report["problems"]
    assert "1 mail(s) failed in the last 24 h" in problem and msg["message_id"] in problem
    assert "TemplateNotFound" in problem
    # A day later (polled since) the check passes again; the mail stays listed for the record.
    later = Office(office.root, {**office.env, "MAILBOT_NOW": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)).isoformat()})
    later.run("poll", "--once")
    status = later.run("status", "--json", check=False)
    report = json.loads(status.stdout)
    assert status.returncode == 0 and report["problems"] == [], report
    assert report["failed_last_24h"] == 0 and report["failed_newest"][0]["message_id"] == msg["message_id"]
