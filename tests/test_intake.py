"""Intake end to end on real servers: Dovecot IMAP in, aiosmtpd out, a real SQLite file.

Each test submits mail the way officers' clients send it, runs `mailbot poll --once`
as the operator's cron job would, and checks what a person would see: the items
list, the receipts and replies that arrived at the SMTP server, the mailbox folders.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from imapclient import IMAPClient

from mailbot import samples
from tests.office import DUTY, REVIEWER, Office, make_office, parse, text_of
from tests.servers import Dovecot, SmtpCapture

OFFICER = "qx01@gz.example.org"  # 越秀区政府 in config/units.toml
OTHER_OFFICER = "ba01@gz.example.org"  # 市发改委


@pytest.fixture
def office(tmp_path: Path, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture) -> Office:
    _, password, url = imap_account
    return make_office(tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password)


def deliver(dovecot: Dovecot, imap_account: tuple[str, str, str], *raws: bytes) -> None:
    address, password, _ = imap_account
    with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
        c.login(address, password)
        for raw in raws:
            c.append("INBOX", raw)


def folder_counts(dovecot: Dovecot, imap_account: tuple[str, str, str]) -> dict[str, int]:
    address, password, _ = imap_account
    with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
        c.login(address, password)
        out = {}
        for flags, _sep, name in c.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            try:
                out[name] = c.folder_status(name, ["MESSAGES"])[b"MESSAGES"]
            except IMAPClient.Error:
                continue  # a hierarchy-only name (mailbot/ when only mailbot/processed exists)
        return out


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def good(subject: str | None = None, sender: str = OFFICER, **kw: object) -> bytes:
    subject = subject or samples.labelled_subject(
        "越秀区推进老旧小区改造惠及3万居民", "越秀区政府", "张三", "李四", "020-83123456"
    )
    body = samples.BODY.format(unit="越秀区", topic="老旧小区改造", money=1200, count=35, people=30000)
    return samples.submission(sender=sender, subject=subject, body=body, date=now(), **kw)  # type: ignore[arg-type]


def subjects(smtp: SmtpCapture) -> list[tuple[tuple[str, ...], str]]:
    return [(m.rcpt_tos, str(parse(m.content)["Subject"])) for m in smtp.messages]


def test_submission_is_filed_with_receipt_and_review_request(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    raw = good()
    deliver(dovecot, imap_account, raw)
    out = office.run("poll", "--once")
    assert "item 1" in out.stdout

    items = office.json("items", "list")
    year = now().astimezone(dt.timezone(dt.timedelta(hours=8))).year
    assert [(i["id"], i["unit"], i["unit_name"], i["status"]) for i in items] == [
        (f"{year}-0001", "QX01", "越秀区政府", "pending")
    ]
    assert items[0]["title"] == "越秀区推进老旧小区改造惠及3万居民"
    shown = office.json("items", "show", items[0]["id"])
    assert shown["fields"]["签发人"] == "张三" and shown["fields"]["电话"] == "020-83123456"
    assert "老旧小区改造" in shown["text"]

    got = smtp_capture.wait_for(2)
    by_rcpt = {m.rcpt_tos: parse(m.content) for m in got}
    receipt = by_rcpt[(OFFICER,)]
    assert f"[报送#{year}-0001]" in receipt["Subject"]
    assert receipt["Auto-Submitted"] == "auto-replied"
    assert receipt["In-Reply-To"].strip("<>") == parse(raw)["Message-ID"].strip("<>")
    assert "已收到并登记" in text_of(receipt)
    review = by_rcpt[(REVIEWER,)]
    assert review["Subject"] == f"[待审#{year}-0001] 越秀区推进老旧小区改造惠及3万居民（越秀区政府）"
    assert "一周一调度" in text_of(review)

    counts = folder_counts(dovecot, imap_account)
    assert counts["INBOX"] == 0 and counts["mailbot/processed"] == 1
    assert [m["disposition"] for m in office.json("messages", "list")] == ["item"]


def test_second_poll_files_nothing_twice(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    raw = good()
    deliver(dovecot, imap_account, raw)
    office.run("poll", "--once")
    # The same mail delivered again (a redelivery) and a fresh poll.
    deliver(dovecot, imap_account, raw)
    office.run("poll", "--once")
    office.run("poll", "--once")
    assert len(office.json("items", "list")) == 1
    smtp_capture.wait_for(2)
    assert sorted(r for r, _ in subjects(smtp_capture)) == sorted([(OFFICER,), (REVIEWER,)])


def test_same_message_id_with_other_bytes_is_ignored(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    first = good(message_id="<dup-1@gz.example.org>")
    second = good(message_id="<dup-1@gz.example.org>", mailer="Microsoft Outlook 16.0")
    assert first != second
    deliver(dovecot, imap_account, first, second)
    office.run("poll", "--once")
    msgs = office.json("messages", "list")
    assert sorted(m["disposition"] for m in msgs) == ["ignored", "item"]
    assert "重复的 Message-ID" in next(m["reason"] for m in msgs if m["disposition"] == "ignored")
    assert len(office.json("items", "list")) == 1
    smtp_capture.wait_for(2)
    assert len([r for r, _ in subjects(smtp_capture) if r == (OFFICER,)]) == 1


def test_gbk_positional_traditional_and_docx(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    gbk = samples.submission(
        sender=OTHER_OFFICER,
        subject=samples.positional_subject("市发改委召开重点项目推进会", "市发改委", "王五", "赵六", "13800138000"),
        body="市发改委召开全市重点项目推进会，部署四季度重点项目建设工作。\n",
        date=now(),
        charset="gbk",
    )
    traditional = samples.submission(
        sender=OFFICER,
        subject="【動態】標題：越秀區開展消防安全檢查；單位：越秀區政府；簽發人：張三；報送人：李四；電話：020-83123456",
        body="越秀區開展消防安全隱患排查整治行動，共檢查場所1200處。\n",
        date=now(),
        charset="big5",
    )
    doc = samples.docx_bytes(["越秀区“一网通办”改革成效明显", "今年以来，越秀区政务服务事项网上可办率达99%。"])
    with_doc = samples.submission(
        sender=OFFICER,
        subject=samples.labelled_subject("越秀区“一网通办”改革成效明显", "越秀区", "张三", "李四", "020-83123456"),
        body="请审阅附件。",
        date=now(),
        attachments=[("越秀区一网通办.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", doc)],
    )
    deliver(dovecot, imap_account, gbk, traditional, with_doc)
    office.run("poll", "--once")
    items = {i["title"]: i for i in office.json("items", "list")}
    assert set(items) == {"市发改委召开重点项目推进会", "越秀區開展消防安全檢查", "越秀区“一网通办”改革成效明显"}
    assert items["市发改委召开重点项目推进会"]["unit"] == "BA01"
    assert items["越秀區開展消防安全檢查"]["unit"] == "QX01"
    detail = office.json("items", "show", items["越秀区“一网通办”改革成效明显"]["id"])
    assert "网上可办率达99%" in detail["text"]
    assert detail["attachments"] == ["越秀区一网通办.docx"]
    assert detail["fields"]["电话"] == "020-83123456"


@pytest.mark.parametrize(
    ("case", "rule_name"),
    [
        ("unknown_sender", "发件人未登记"),
        ("wrong_unit", "发件人不是所填单位的信息员"),
        ("missing_fields", "缺少必填要素"),
        ("too_many_documents", "一封邮件只能报送1条信息"),
        ("unknown_unit", "单位名称无法识别"),
    ],
)
def test_each_refusal_is_answered_with_rule_seen_and_example(
    case: str,
    rule_name: str,
    office: Office,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
) -> None:
    subj = samples.labelled_subject("越秀区开展安全生产大检查", "越秀区政府", "张三", "李四", "020-83123456")
    if case == "unknown_sender":
        raw = good(sender="stranger@elsewhere.example.com")
    elif case == "wrong_unit":
        raw = good(subj.replace("越秀区政府", "市发改委"))
    elif case == "missing_fields":
        raw = good("标题：越秀区开展安全生产大检查；单位：越秀区政府")
    elif case == "unknown_unit":
        raw = good(subj.replace("越秀区政府", "火星区政府"))
    else:
        d = samples.docx_bytes(["一"])
        ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        raw = good(subj, attachments=[("a.docx", ctype, d), ("b.docx", ctype, d)])
    deliver(dovecot, imap_account, raw)
    office.run("poll", "--once")
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "refused" and rule_name in msg["reason"]
    (item,) = office.json("items", "list")
    assert item["status"] == "refused" and rule_name in item["reason"]
    (got,) = smtp_capture.wait_for(1)
    reply = parse(got.content)
    body = text_of(reply)
    assert rule_name in body and "未通过的规则" in body
    if case != "unknown_sender":
        assert "标题：" in body and "签发人：" in body  # a correct example subject
    assert reply["Auto-Submitted"] == "auto-replied"
    assert folder_counts(dovecot, imap_account)["mailbot/refused"] == 1


def test_classified_mail_is_quarantined_and_forwarded_to_no_one(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    subj = samples.labelled_subject("关于某项工作的情况报告", "越秀区政府", "张三", "李四", "020-83123456")
    raw = samples.submission(sender=OFFICER, subject="【机密】" + subj, body="机密★1年\n这是正文的敏感内容甲乙丙。",
                             date=now())
    deliver(dovecot, imap_account, raw)
    office.run("poll", "--once")
    (item,) = office.json("items", "list")
    assert item["status"] == "quarantined"
    (got,) = smtp_capture.wait_for(1)
    assert got.rcpt_tos == (OFFICER,)
    body = text_of(parse(got.content))
    assert "纸质" in body and "敏感内容甲乙丙" not in body
    assert office.json("items", "show", item["id"])["text"] == ""


def test_oversized_mail_is_refused_with_the_limit_named(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    _, password, url = imap_account
    office = make_office(tmp_path / "o", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                         extra="[limits]\nmax_message_bytes = 20000\n")
    pic = bytes(range(256)) * 200  # 51 KB
    deliver(dovecot, imap_account, good(attachments=[("现场.jpg", "image/jpeg", pic)]))
    office.run("poll", "--once")
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "refused" and "超过上限" in msg["reason"]
    (got,) = smtp_capture.wait_for(1)
    assert "邮件超过大小限制" in text_of(parse(got.content))


def test_auto_replies_bounces_and_spam_are_never_answered(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    ooo = good(subject="自动回复：关于报送材料的通知", headers=[("Auto-Submitted", "auto-replied")])
    listed = good(headers=[("List-Id", "<news.example.org>"), ("Precedence", "list")])
    spam = good(sender="spammer@elsewhere.example.com", headers=[("X-Spam-Flag", "YES")])
    deliver(dovecot, imap_account, ooo, listed, spam)
    office.run("poll", "--once")
    assert sorted(m["disposition"] for m in office.json("messages", "list")) == ["ignored"] * 3
    assert office.json("items", "list") == []
    assert smtp_capture.messages == []
    assert folder_counts(dovecot, imap_account)["mailbot/ignored"] == 3


def test_unknown_sender_gets_at_most_one_reply_a_day(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    raws = [good(sender="stranger@elsewhere.example.com", mailer=f"x{i}") for i in range(3)]
    deliver(dovecot, imap_account, *raws)
    office.run("poll", "--once")
    assert [m["disposition"] for m in office.json("messages", "list")] == ["refused"] * 3
    smtp_capture.wait_for(1)
    office.run("poll", "--once")
    assert len(smtp_capture.messages) == 1


def test_urgent_item_alerts_duty_editor_first(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    subj = "【突发】" + samples.labelled_subject("越秀区一在建工地发生坍塌", "越秀区政府", "张三", "李四", "020-83123456")
    deliver(dovecot, imap_account, good(subj))
    office.run("poll", "--once")
    got = smtp_capture.wait_for(3)
    assert got[0].rcpt_tos == (DUTY,)
    assert str(parse(got[0].content)["Subject"]).startswith("【紧急】[待审#")
    receipt = next(parse(m.content) for m in got if m.rcpt_tos == (OFFICER,))
    assert "按【紧急】信息办理" in text_of(receipt)
    assert office.json("items", "list")[0]["urgent"] is True
