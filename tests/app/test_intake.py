"""Intake end to end on real servers: Dovecot IMAP in, aiosmtpd out, a real SQLite file.

Each test submits mail the way officers' clients send it, runs `mailbot poll --once`
as the operator's cron job would, and checks what a person would see: the items
list, the receipts and replies that arrived at the SMTP server, the mailbox folders.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlmodel import select

from mailbot.app import intake
from mailbot.app.context import Runtime
from mailbot.app.intake import poll_once
from mailbot.core.mail import mime
from mailbot.demo import samples
from mailbot.shell.archive import Archive
from mailbot.shell.config import load_config
from mailbot.shell.db.models import Item, MessageRow, OutboxRow
from mailbot.shell.db.store import session_scope
from tests import mailstore
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


SUBJ = samples.labelled_subject("越秀区开展安全生产大检查", "越秀区政府", "张三", "李四", "020-83123456")


@pytest.mark.parametrize(
    ("case", "rule_name", "seen"),
    [
        ("unknown_sender", "发件人未登记", "stranger@elsewhere.example.com"),
        ("wrong_unit", "发件人不是所填单位的信息员", "市发改委"),
        ("missing_fields", "缺少必填要素", "标题：越秀区开展安全生产大检查；单位：越秀区政府"),
        ("too_many_documents", "一封邮件只能报送1条信息", "a.docx、b.docx"),
        ("unknown_unit", "单位名称无法识别", "火星区政府"),
        ("empty", "邮件没有信息正文", SUBJ),
    ],
)
def test_each_refusal_is_answered_with_rule_seen_and_example(
    case: str,
    rule_name: str,
    seen: str,
    office: Office,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
) -> None:
    subj = SUBJ
    if case == "unknown_sender":
        raw = good(sender="stranger@elsewhere.example.com")
    elif case == "wrong_unit":
        raw = good(subj.replace("越秀区政府", "市发改委"))
    elif case == "missing_fields":
        raw = good("标题：越秀区开展安全生产大检查；单位：越秀区政府")
    elif case == "unknown_unit":
        raw = good(subj.replace("越秀区政府", "火星区政府"))
    elif case == "empty":
        raw = samples.submission(sender=OFFICER, subject=subj, body="", date=now())
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
    assert f"邮件中看到的是：{seen}" in body  # what the mail had, so the officer sees the mistake
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


# ---------------------------------------------------------------- replies to our own mail about no item


def test_corrected_submission_sent_as_a_reply_to_its_refusal_is_filed(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good("标题：越秀区开展安全生产大检查；单位：越秀区政府"))
    office.run("poll", "--once")
    (refusal,) = smtp_capture.wait_for(1)
    assert "[未能登记] 缺少必填要素" in str(parse(refusal.content)["Subject"])
    # The officer hits 回复 and writes the missing 落款 above the quoted refusal (which itself
    # holds an example subject with 张三/李四).
    fixed = samples.reply(
        sender=OFFICER,
        to_message=refusal.content,
        command="越秀区开展安全生产大检查，共检查企业120家，整改隐患35处。\n签发人：王五\n报送人：赵六 电话：13800138000",
        date=now(),
    )
    deliver(dovecot, imap_account, fixed)
    office.run("poll", "--once")

    items = [i for i in office.json("items", "list") if i["status"] == "pending"]
    assert [(i["unit"], i["title"]) for i in items] == [("QX01", "越秀区开展安全生产大检查")]
    shown = office.json("items", "show", items[0]["id"])
    assert shown["fields"]["签发人"] == "王五" and shown["fields"]["电话"] == "13800138000"
    assert "整改隐患35处" in shown["text"] and "未通过的规则" not in shown["text"]  # the quote is ours
    got = smtp_capture.wait_for(3)
    assert {m.rcpt_tos for m in got[1:]} == {(OFFICER,), (REVIEWER,)}  # a receipt and a review request


# ---------------------------------------------------------------- classified marks before every other rule


def test_classified_mail_from_a_stranger_is_quarantined_not_kept(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    stranger = "stranger@elsewhere.example.com"
    raws = [
        samples.submission(sender=stranger, subject=f"【机密】关于某项工作的情况报告{n}",
                           body="机密★1年\n这是正文的敏感内容甲乙丙。", date=now(), mailer=f"x{n}")
        for n in range(2)
    ]
    deliver(dovecot, imap_account, *raws)
    office.run("poll", "--once")
    items = office.json("items", "list")
    assert [i["status"] for i in items] == ["quarantined", "quarantined"]
    assert all(office.json("items", "show", i["id"])["text"] == "" for i in items)
    assert {m["disposition"] for m in office.json("messages", "list")} == {"quarantined"}
    (got,) = smtp_capture.wait_for(1)  # a stranger is answered once a day at most
    body = text_of(parse(got.content))
    assert "纸质" in body and "敏感内容甲乙丙" not in body


def test_classified_document_with_a_second_document_is_quarantined(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    secret = samples.docx_bytes(["秘密★1年", "某项工作的敏感情况甲乙丙。"])
    plain = samples.docx_bytes(["越秀区开展安全生产大检查"])
    deliver(dovecot, imap_account, good(SUBJ, attachments=[("情况.docx", ctype, secret), ("附件2.docx", ctype, plain)]))
    office.run("poll", "--once")
    (item,) = office.json("items", "list")
    assert item["status"] == "quarantined" and "含有涉密标识" in item["reason"]
    assert office.json("items", "show", item["id"])["text"] == ""
    (got,) = smtp_capture.wait_for(1)
    assert got.rcpt_tos == (OFFICER,) and "纸质" in text_of(parse(got.content))
    assert folder_counts(dovecot, imap_account)["mailbot/refused"] == 1


# ---------------------------------------------------------------- in-process: unparseable mail, log lines


def _maildir_office(root: Path) -> Runtime:
    office = make_office(root, mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox", urgent=())
    return Runtime(load_config(office.config))


def test_mail_the_parser_cannot_read_is_refused_as_unparseable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(raw: bytes) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    # Whatever makes the MIME parser give up, parse_mail falls back to a header scan.
    monkeypatch.setattr(mime, "_parse", crash)
    rt = _maildir_office(tmp_path / "o")
    try:
        mailstore.append(rt.mailbox, good())
        mailstore.append(rt.mailbox, good(sender="stranger@elsewhere.example.com"))
        poll_once(rt)
        with session_scope(rt.engine) as s:
            rows = {r.from_addr: r for r in s.exec(select(MessageRow)).all()}
            assert rows[OFFICER].rule == "unparseable" and rows[OFFICER].disposition == "refused"
            assert rows["stranger@elsewhere.example.com"].rule == "unknown_sender"
            assert s.exec(select(Item).where(Item.status == "pending")).all() == []
            (answer,) = [r for r in s.exec(select(OutboxRow)).all() if r.rcpt_to == [OFFICER]]
        body = text_of(parse(answer.raw))
        assert "邮件无法解析" in body and "RecursionError" in body
    finally:
        rt.close()


def test_failure_log_lines_name_the_message_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rt = _maildir_office(tmp_path / "o")
    try:
        mailstore.append(rt.mailbox, good(message_id="<broken-1@gz.example.org>"))

        def boom(*args: object, **kw: object) -> None:
            raise RuntimeError("a bug in triage")

        monkeypatch.setattr(intake, "triage", boom)
        caplog.set_level(logging.INFO, logger="mailbot.app.intake")
        for _ in range(rt.box_config(rt.mailbox).max_attempts):
            poll_once(rt)
        failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(failed) == rt.box_config(rt.mailbox).max_attempts + 1  # each attempt, then the give-up
        for record in failed:
            assert "broken-1@gz.example.org" in record.getMessage()
            assert getattr(record, "message_id", None) == "broken-1@gz.example.org"
        assert "moved to" in failed[-1].getMessage()

        caplog.clear()
        mailstore.append(rt.mailbox, good(message_id="<no-disk-1@gz.example.org>"))

        def full(*args: object, **kw: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(Archive, "put", full)
        poll_once(rt)
        (line,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert "not archived" in line and "no-disk-1@gz.example.org" in line
    finally:
        rt.close()
