"""`mailbot status`: every mailbox is watched on its own, failures and refused sends are reported,
urgent items show how long they waited. Judged through `status --json` as a health check would."""

from __future__ import annotations

import datetime as dt
import json
import mailbox as stdlib_mailbox
import shutil
from pathlib import Path

from mailbot.app.status import FAILING_GRACE, MailboxBeat, mailbox_problems, read_beat
from mailbot.demo import samples
from tests.app.test_intake import OFFICER, deliver, good
from tests.office import REVIEWER, Office, make_office
from tests.servers import Dovecot, SmtpCapture
from tests.system.test_daemon import NO_BULLETIN, OFFICERS, Daemons, filed, status, wait_until

NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.UTC)


def from_liwan() -> bytes:
    """A valid submission of a second unit (荔湾区政府)."""
    subject = samples.labelled_subject("荔湾区推进老城区更新改造", "荔湾区政府", "王五", "赵六", "020-81234567")
    return good(subject=subject, sender=OFFICERS[1][0])
STALE = dt.timedelta(minutes=30)


# -- the pure rules -----------------------------------------------------------------------------


def beat(last_poll: dt.datetime | None, failing_since: dt.datetime | None = None) -> MailboxBeat:
    return MailboxBeat("maildir:/srv/b", last_poll, True, failing_since, "OSError: boom" if failing_since else None)


def test_a_mailbox_is_healthy_while_polled_and_names_itself_when_not() -> None:
    assert mailbox_problems(beat(NOW - dt.timedelta(minutes=1)), NOW, STALE) == []
    assert mailbox_problems(beat(None), NOW, STALE) == ["mailbox maildir:/srv/b: no successful poll yet"]
    assert mailbox_problems(beat(NOW - dt.timedelta(minutes=31)), NOW, STALE) == [
        "mailbox maildir:/srv/b: last successful poll 31 min ago"
    ]


def test_a_failing_mailbox_is_reported_after_the_grace_unless_polled_since() -> None:
    since = NOW - FAILING_GRACE - dt.timedelta(minutes=1)
    # A dropped connection that recovers within the grace is not worth waking anyone.
    assert mailbox_problems(beat(NOW - dt.timedelta(minutes=8), NOW - dt.timedelta(minutes=2)), NOW, STALE) == []
    assert mailbox_problems(beat(since - dt.timedelta(minutes=1), since), NOW, STALE) == [
        "mailbox maildir:/srv/b: failing for 6 min: OSError: boom"
    ]
    # Another daemon polled the mailbox after this one began to fail: the mailbox is served.
    assert mailbox_problems(beat(NOW - dt.timedelta(minutes=1), since), NOW, STALE) == []


def test_a_poll_once_run_counts_as_a_poll_of_every_mailbox() -> None:
    cron = NOW - dt.timedelta(minutes=1)
    settings = {"last_poll:imap://a@h:143/INBOX": (NOW - dt.timedelta(hours=3)).isoformat()}
    assert read_beat("imap://a@h:143/INBOX", settings, cron).last_poll == cron
    assert read_beat("maildir:/srv/b", {}, None).last_poll is None


# -- the daemon ---------------------------------------------------------------------------------


def test_a_broken_mailbox_is_named_in_status_and_served_again_once_repaired(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
    daemons: Daemons,
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         urgent=(), extra=NO_BULLETIN)
    text = office.config.read_text(encoding="utf-8")
    text = text.replace(f'[mailbox]\nurl = "{url}"\npoll_interval = 1\n',
                        f'[[mailbox]]\nurl = "{url}"\npoll_interval = 1\n\n'
                        '[[mailbox]]\nurl = "maildir://var/second"\npoll_interval = 1\n')
    office.config.write_text(text, encoding="utf-8")
    office.run("messages", "list")  # creates the database before the daemon starts
    second = office.root / "var" / "second"
    daemon = daemons.start(office)
    code, report = wait_until("a healthy status", lambda: (r := status(office))[0] == 0 and r, 60)
    assert [b["healthy"] for b in report["mailboxes"]] == [True, True], report["mailboxes"]
    sid = report["mailboxes"][1]["mailbox"]
    assert sid == f"maildir:{second}"

    # Something no one planned for: an entry of the Maildir that cannot be read (here a directory).
    (second / "new" / "1700000000.M1P1.broken").mkdir()
    wait_until("the failure in the log", lambda: "IsADirectoryError" in daemon.output(), 30)
    deliver(dovecot, imap_account, good())
    filed(office, 1, 60, daemon)  # the IMAP mailbox is still served meanwhile
    # Ten minutes later the second mailbox has still not been read: the health check says which.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).isoformat()
    code, report = status(office, MAILBOT_NOW=later)
    assert code == 1, report
    assert len(report["problems"]) == 1 and report["problems"][0].startswith(f"mailbox {sid}: failing for")
    assert "IsADirectoryError" in report["problems"][0]
    first, broken = report["mailboxes"]
    assert first["healthy"] and not broken["healthy"] and "IsADirectoryError" in broken["error"]

    # Repaired, the mailbox is read again by the same daemon: its loop outlived the error.
    shutil.rmtree(second / "new" / "1700000000.M1P1.broken")
    stdlib_mailbox.Maildir(str(second), create=False).add(from_liwan())
    rows = filed(office, 2, 90, daemon)
    assert sorted(r["disposition"] for r in rows) == ["item", "item"]
    code, report = wait_until("a healthy status again", lambda: (r := status(office))[0] == 0 and r, 30)
    assert report["mailboxes"][1]["error"] is None
    daemon.terminate()
    # Logged once with its traceback, however many times it was retried.
    assert daemon.output().count("Traceback (most recent call last)") == 1, daemon.output()


# -- what the operator is told ------------------------------------------------------------------


def test_mail_refused_for_good_fails_the_health_check_for_a_day(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         urgent=())
    smtp_capture.data_reply = "550 5.7.1 rejected by policy"
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")

    code, report = status(office)
    assert code == 1
    assert (report["outbox"]["dead"], report["outbox"]["dead_last_24h"]) == (2, 2)
    receipt = next(d for d in report["outbox"]["dead_newest"] if d["kind"] == "receipt")
    assert receipt["to"] == [OFFICER] and "rejected by policy" in receipt["error"]
    (problem,) = report["problems"]
    assert "2 outgoing mail(s) refused for good" in problem and receipt["message_id"] in problem
    text = office.run("status", check=False).stdout
    assert receipt["message_id"] in text

    # A day later (polled since) the health check passes again; the refusals stay listed.
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)).isoformat()
    Office(office.root, {**office.env, "MAILBOT_NOW": later}).run("poll", "--once")
    code, report = status(office, MAILBOT_NOW=later)
    assert code == 0 and report["problems"] == [], report
    assert report["outbox"]["dead_last_24h"] == 0 and len(report["outbox"]["dead_newest"]) == 2


def test_status_lists_urgent_items_with_minutes_to_their_first_decision(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password)
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    title = "越秀区某路段发生路面塌陷无人员伤亡"
    urgent = samples.submission(
        sender=OFFICER,
        subject="【紧急】" + samples.labelled_subject(title, "越秀区政府", "张三", "李四", "020-83123456"),
        body="今日上午，越秀区某路段发生路面塌陷，无人员伤亡，现场已封闭处置。",
        date=received,
    )
    deliver(dovecot, imap_account, urgent, from_liwan())
    Office(office.root, {**office.env, "MAILBOT_NOW": received.isoformat()}).run("poll", "--once")
    (item,) = [i for i in office.json("items", "list") if i["urgent"]]

    def urgent_list(at: dt.datetime) -> list[dict[str, object]]:
        return list(status(office, MAILBOT_NOW=at.isoformat())[1]["urgent"])

    (waiting,) = urgent_list(received + dt.timedelta(minutes=45))
    assert (waiting["item"], waiting["title"]) == (item["id"], title)
    assert waiting["first_decision_minutes"] is None and waiting["state"] == "waiting 45 min"

    decided_at = received + dt.timedelta(minutes=70)
    office.run("decide", item["id"], "采用", "--by", REVIEWER, "--at", decided_at.isoformat())
    (decided,) = urgent_list(received + dt.timedelta(hours=2))
    assert decided["first_decision_minutes"] == 70 and decided["state"] == "decided after 70 min"
    at = (received + dt.timedelta(hours=2)).isoformat()
    text = Office(office.root, {**office.env, "MAILBOT_NOW": at}).run("status", check=False).stdout
    assert f"{item['id']} {title} — decided after 70 min" in text
    # The list covers the last 30 days only.
    assert urgent_list(received + dt.timedelta(days=31)) == []
    assert json.loads(office.run("status", "--json", check=False).stdout)["urgent"][0]["item"] == item["id"]
