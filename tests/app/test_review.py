"""Review by reply, end to end: editors decide by answering mail from any client.

On the real servers: submit → receipt → review request → reply 采用 → confirmation
and notice; 撤销; 不采用 with a reason. In-process on a Maildir office: every
client fixture in tests/fixtures/replies is applied correctly and only once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from mailbot.app.context import Runtime
from mailbot.app.intake import poll_once
from mailbot.demo import samples
from mailbot.shell.clock import FixedClock
from mailbot.shell.config import load_config
from mailbot.shell.db.convert import decision_of
from mailbot.shell.db.models import EventRow, Item, OutboxRow
from mailbot.shell.db.store import session_scope
from tests import mailstore
from tests.app.test_intake import OFFICER, deliver, good
from tests.core.test_reply_fixtures import EXPECTED, FIXTURES
from tests.office import DUTY, REVIEWER, Office, make_office, parse, text_of
from tests.servers import Dovecot, SmtpCapture

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def office(tmp_path: Path, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture) -> Office:
    _, password, url = imap_account
    return make_office(tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                       urgent=())


def _reply_to_review(smtp: SmtpCapture, command: str, sender: str = REVIEWER, **kw: str) -> bytes:
    review = next(m for m in smtp.messages if "[待审#" in str(parse(m.content)["Subject"]))
    return samples.reply(sender=sender, to_message=review.content, command=command,
                         date=dt.datetime.now(dt.UTC), **kw)  # type: ignore[arg-type]


def _new_mail(smtp: SmtpCapture, seen: int, n: int) -> list:  # type: ignore[type-arg]
    got = smtp.wait_for(seen + n)
    return [parse(m.content) for m in got[seen:]]


def test_adopt_undo_reject_by_reply(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    smtp_capture.wait_for(2)
    (item,) = office.json("items", "list")

    # 采用 at a grade, typed above the quoted review request (which itself lists 采用 and 不采用).
    deliver(dovecot, imap_account, _reply_to_review(smtp_capture, "采用 穗府信息 标题\n批示 市"))
    office.run("poll", "--once")
    confirm, notice = sorted(_new_mail(smtp_capture, 2, 2), key=lambda m: m["To"] != REVIEWER)
    assert confirm["To"] == REVIEWER and "已执行" in confirm["Subject"]
    assert "已采用" in text_of(confirm) and "10 分" in text_of(confirm)  # 标题 2 + 市领导批示 8
    assert notice["To"] == OFFICER and "已采用" in str(notice["Subject"])
    assert "10 分" in text_of(notice)
    shown = office.json("items", "show", item["id"])
    assert shown["status"] == "adopted" and shown["score"] == 10
    assert [(e["kind"], e["points"]) for e in shown["events"]] == [("采用", 2), ("批示", 8)]

    # 撤销 takes back this reviewer's last decision (the 批示); again, the adoption.
    deliver(dovecot, imap_account, _reply_to_review(smtp_capture, "撤销", quote_style="gt"))
    office.run("poll", "--once")
    assert office.json("items", "show", item["id"])["score"] == 2
    deliver(dovecot, imap_account, _reply_to_review(smtp_capture, "撤销。谢谢"))
    office.run("poll", "--once")
    assert office.json("items", "list")[0]["status"] == "pending"

    seen = len(smtp_capture.messages)
    deliver(dovecot, imap_account, _reply_to_review(smtp_capture, "不采用 内容与上期重复"))
    office.run("poll", "--once")
    mails = _new_mail(smtp_capture, seen, 2)
    notice = next(m for m in mails if m["To"] == OFFICER)
    assert "未采用" in str(notice["Subject"]) and "内容与上期重复" in text_of(notice)
    listed = office.json("items", "list")[0]
    assert listed["status"] == "rejected" and listed["score"] == 0
    decisions = [m for m in office.json("messages", "list") if m["disposition"] == "decision"]
    assert len(decisions) == 4 and {m["item"] for m in decisions} == {item["id"]}


def test_same_reply_delivered_twice_is_applied_once(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    smtp_capture.wait_for(2)
    reply = _reply_to_review(smtp_capture, "采用 短波")
    deliver(dovecot, imap_account, reply)
    office.run("poll", "--once")
    deliver(dovecot, imap_account, reply)
    office.run("poll", "--once")
    shown = office.json("items", "show", office.json("items", "list")[0]["id"])
    assert [e["kind"] for e in shown["events"]] == ["采用"] and shown["score"] == 1
    smtp_capture.wait_for(4)
    assert len(smtp_capture.messages) == 4  # receipt, review, one confirmation, one notice


def test_non_reviewer_reply_is_recorded_not_applied(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    smtp_capture.wait_for(2)
    # The officer answers their own review request (forwarded to them) with 采用.
    deliver(dovecot, imap_account, _reply_to_review(smtp_capture, "采用 穗府信息 标题", sender=OFFICER))
    office.run("poll", "--once")
    assert office.json("items", "list")[0]["status"] == "pending"
    refused = [m for m in office.json("messages", "list") if m["disposition"] == "refused"]
    assert len(refused) == 1 and "非审核人" in refused[0]["reason"]
    (answer,) = _new_mail(smtp_capture, 2, 1)
    assert answer["To"] == OFFICER and "未作为审核决定执行" in text_of(answer)


def test_spoofed_reviewer_with_failing_authentication_is_not_applied(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         urgent=(),
                         extra='require_authenticated_sender = true\nauthserv_id = "mx.example.org"\n')
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    smtp_capture.wait_for(2)
    forged = _reply_to_review(smtp_capture, "采用 穗府信息 标题")
    forged = (b"Authentication-Results: mx.example.org; dkim=fail header.d=example.org; "
              b"spf=fail smtp.mailfrom=evil.example.net\r\n" + forged)
    genuine = _reply_to_review(smtp_capture, "不采用 请补充数据")
    genuine = (b"Authentication-Results: mx.example.org; dkim=pass header.d=example.org; "
               b"spf=pass smtp.mailfrom=example.org\r\n" + genuine)
    deliver(dovecot, imap_account, forged)
    office.run("poll", "--once")
    assert office.json("items", "list")[0]["status"] == "pending"
    msgs = office.json("messages", "list")
    assert any(m["disposition"] == "refused" and "DKIM/SPF" in m["reason"] for m in msgs)
    deliver(dovecot, imap_account, genuine)
    office.run("poll", "--once")
    assert office.json("items", "list")[0]["status"] == "rejected"


def test_duty_editor_decides_by_replying_to_the_urgent_alert(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         urgent=(DUTY,))
    subj = "【突发】" + samples.labelled_subject("越秀区一在建工地发生坍塌", "越秀区政府", "张三", "李四", "020-83123456")
    deliver(dovecot, imap_account, good(subj))
    office.run("poll", "--once")
    alert = next(m for m in smtp_capture.wait_for(3) if m.rcpt_tos == (DUTY,))
    assert str(parse(alert.content)["Subject"]).startswith("【紧急】[待审#")
    seen = len(smtp_capture.messages)
    deliver(dovecot, imap_account, samples.reply(sender=DUTY, to_message=alert.content, command="采用 穗府要情",
                                                 date=dt.datetime.now(dt.UTC)))
    office.run("poll", "--once")
    (item,) = office.json("items", "list")
    assert item["status"] == "adopted" and item["score"] == 5
    (msg,) = [m for m in office.json("messages", "list") if m["disposition"] != "item"]
    assert msg["disposition"] == "decision"
    confirm = next(m for m in _new_mail(smtp_capture, seen, 2) if m["To"] == DUTY)
    assert "已执行" in str(confirm["Subject"])


def test_reply_matching_no_item_gets_a_polite_error(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    stray = samples.submission(sender=REVIEWER, subject="回复: [待审#2026-9999] 某条信息（越秀区政府）",
                               body="采用\n", date=dt.datetime.now(dt.UTC))
    deliver(dovecot, imap_account, stray)
    office.run("poll", "--once")
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "refused" and "找不到对应的信息" in msg["reason"]
    (got,) = smtp_capture.wait_for(1)
    body = text_of(parse(got.content))
    assert "2026-9999" in body and "采用 [刊物] [档次]" in body  # names the number, shows the command table


def test_decide_from_the_cli_uses_the_same_path(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    item_id = office.json("items", "list")[0]["id"]
    out = office.run("decide", item_id, "采用", "穗府要情", "--by", "leader@example.org",
                     "--at", "2026-10-30T15:00:00")
    assert "adopted" in out.stdout
    shown = office.json("items", "show", item_id)
    assert shown["events"][0]["by"] == "leader@example.org"
    assert shown["events"][0]["at"].startswith("2026-10-30T15:00:00+08:00")
    assert shown["score"] == 5
    scores = {r["unit"]: r for r in office.json("scores", "--period", "2026-10")}
    assert scores["QX01"]["score"] == 5  # counts in the month of the decision
    bad = office.run("decide", item_id, "采用", "人民日报", check=False)
    assert bad.returncode == 2 and "人民日报" in bad.stderr


# ------------------------------------------------------------------ every client layout, in-process


def _maildir_runtime(root: Path) -> tuple[Runtime, FixedClock]:
    office = make_office(root, mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox", urgent=())
    clock = FixedClock(dt.datetime(2026, 11, 3, 9, 0, tzinfo=TZ).astimezone(dt.UTC))
    return Runtime(load_config(office.config), clock=clock), clock


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_client_reply_is_applied_once(tmp_path: Path, name: str) -> None:
    rt, clock = _maildir_runtime(tmp_path / "o")
    try:
        for i in range(12):  # the fixtures answer 2026-0012
            mailstore.append(rt.mailbox, samples.submission(
                sender=OFFICER, date=clock.now(),
                subject=samples.labelled_subject(f"越秀区第{i}条信息", "越秀区政府", "张三", "李四", "020-83123456"),
                body=samples.body_text("越秀区", samples.TOPICS[i], __import__("random").Random(i)),
            ))
        poll_once(rt)
        clock.set(dt.datetime(2026, 11, 3, 16, 0, tzinfo=TZ).astimezone(dt.UTC))
        raw = (FIXTURES / f"{name}.eml").read_bytes()
        mailstore.append(rt.mailbox, raw)
        poll_once(rt)
        mailstore.append(rt.mailbox, raw)  # redelivered by the server
        poll_once(rt)
        with session_scope(rt.engine) as s:
            events = s.exec(select(EventRow).order_by(col(EventRow.id))).all()
            assert [decision_of(e) for e in events] == EXPECTED[name]
            assert {e.item_id for e in events} == {"2026-0012"}
            item = s.get(Item, "2026-0012")
            assert item is not None
            adopted = any(d.kind in ("采用", "上级采用") for d in EXPECTED[name])
            rejected = any(d.kind == "不采用" for d in EXPECTED[name])
            assert item.status == ("adopted" if adopted else "rejected" if rejected else "pending")
    finally:
        rt.close()


def test_help_is_answered_with_the_command_table(tmp_path: Path) -> None:
    rt, clock = _maildir_runtime(tmp_path / "o")
    try:
        mailstore.append(rt.mailbox, samples.submission(
            sender=OFFICER, date=clock.now(),
            subject=samples.labelled_subject("越秀区一条信息", "越秀区政府", "张三", "李四", "020-83123456"),
            body="正文。",
        ))
        poll_once(rt)
        with session_scope(rt.engine) as s:
            review = s.exec(select(OutboxRow).where(OutboxRow.kind == "review")).one()
        mailstore.append(rt.mailbox, samples.reply(sender=REVIEWER, to_message=review.raw, command="帮助", date=clock.now()))
        poll_once(rt)
        with session_scope(rt.engine) as s:
            (answer,) = s.exec(select(OutboxRow).where(OutboxRow.kind == "reply-error")).all()
            assert s.exec(select(EventRow)).all() == []
        body = text_of(parse(answer.raw))
        assert answer.rcpt_to == [REVIEWER]
        for syntax in ("采用 [刊物] [档次]", "不采用 [理由]", "批示 <级别>", "撤销", "扣分 <分值> [理由]"):
            assert syntax in body
    finally:
        rt.close()
