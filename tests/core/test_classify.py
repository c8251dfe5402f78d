"""Which mail is never answered (auto-replies, bounces, lists), spam flags, and what a bounce reports."""

from __future__ import annotations

import csv

import pytest

from mailbot.core.mail.mime import ParsedMail, parse_mail
from mailbot.core.submission.classify import (
    auto_reason,
    bounced_message_ids,
    bounced_recipients,
    is_bounce,
    is_spam,
)
from tests import corpus_report

CORPUS = corpus_report.CORPUS
MANIFEST = CORPUS / "MANIFEST.tsv"
needs_corpus = pytest.mark.skipif(not MANIFEST.is_file(), reason=corpus_report.MISSING)


def manifest(category: str) -> list[str]:
    if not MANIFEST.is_file():
        return []
    with MANIFEST.open(encoding="utf-8", newline="") as f:
        return [row["file"] for row in csv.DictReader(f, delimiter="\t") if row["category"] == category]


def corpus(name: str) -> tuple[ParsedMail, bytes]:
    raw = (CORPUS / name).read_bytes()
    return parse_mail(raw), raw


@needs_corpus
@pytest.mark.parametrize("name", manifest("bounce") + manifest("auto-reply"))
def test_corpus_bounces_and_auto_replies_are_never_answered(name: str) -> None:
    mail, _ = corpus(name)
    assert auto_reason(mail) is not None


@needs_corpus
@pytest.mark.parametrize("name", manifest("bounce"))
def test_corpus_bounces_are_bounces(name: str) -> None:
    assert is_bounce(corpus(name)[0])


# Ordinary person-to-person mail (category cjk-charset, no automatic or list headers).
ORDINARY = [
    "demisto-parse-emails__chinese_big5_encoding.eml",
    "demisto-parse-emails__chinese_email_test.eml",
    "demisto-parse-emails__chinese_gb2312_encoding.eml",
    "demisto-parse-emails__chinese_gbk_encoding.eml",
    "kopano-core__big5.eml",
    "mailcore2__1021-chinese.eml",
    "mailcore2__2765-korean.eml",
    "rt__new-ticket-from-gb18030.eml",
    "spamassassin__gb2312.1.eml",
    "webklex-php-imap__gbk_charset.eml",
    "zammad__mail016.eml",
    "zammad__mail015.eml",
    "zammad__mail032.eml",
    "redmine__subject_japanese_1.eml",
]


@needs_corpus
@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_mail_is_answered(name: str) -> None:
    mail, _ = corpus(name)
    assert auto_reason(mail) is None
    assert not is_bounce(mail)


@needs_corpus
@pytest.mark.parametrize(
    ("name", "recipients", "message_ids"),
    [
        ("enmime__simple_dsn.eml", ["louisl@larry.slip.umd.edu"], []),
        (
            "rt__multipart-report.eml",
            ["jesmund@mailbox.other.example.com"],
            ["200308221615.h7MGFGac020135@mx12.other.example.com"],
        ),
        (
            "mlarchive-osst-users__04b223d8aa6f.eml",  # a Tencent (qq.com) bounce
            ["593062225@qq.com"],
            ["202011221041085697272@lists.sourceforge.net"],
        ),
        (
            "sisimai__rhost-tencent-02.eml",
            ["neko@qq.example.com"],
            ["20180429233445.4278803910AC@mail.example.co.jp"],
        ),
        ("mimekit__delivery-status-multiple-blank-lines.eml", ["orig_recip@customer.com"], []),  # no Action:
        ("enmime__delayed_dsn.eml", [], []),  # delayed, not failed
    ],
)
def test_bounced_recipients_and_message_ids(name: str, recipients: list[str], message_ids: list[str]) -> None:
    mail, raw = corpus(name)
    assert is_bounce(mail)
    assert bounced_recipients(mail) == recipients
    assert bounced_recipients(mail, raw) == recipients
    assert bounced_message_ids(mail, raw) == message_ids


@needs_corpus
@pytest.mark.parametrize("name", ["james-project__mdn_simple.eml", "flanker__disposition-notification.eml"])
def test_read_receipts_are_automatic_but_not_bounces(name: str) -> None:
    mail, _ = corpus(name)
    assert auto_reason(mail) is not None
    assert not is_bounce(mail)
    assert bounced_recipients(mail) == []


def mail(headers: str, subject: str = "【动态】关于防汛工作的报告") -> ParsedMail:
    raw = f"From: 张三 <zs@yuexiu.gov.cn>\r\nSubject: {subject}\r\n{headers.strip()}\r\n\r\n正文".encode()
    return parse_mail(raw)


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        ("X-Mailer: Foxmail", False),
        ("Auto-Submitted: no", False),
        ("Auto-Submitted: auto-replied", True),
        ("Auto-Submitted: auto-generated", True),
        ("Auto-Submitted: auto-notified; owner-email=x@y", True),
        ("X-Autoreply: yes", True),
        ("X-Autorespond: Out of office", True),
        ("X-Auto-Response-Suppress: All", True),
        ("X-Auto-Response-Suppress: OOF, AutoReply", True),
        ("X-Auto-Response-Suppress: DR, RN, NRN", False),  # only suppresses delivery/read receipts
        ("Precedence: bulk", True),
        ("Precedence: junk", True),
        ("Precedence: LIST", True),
        ("Precedence: auto_reply", True),
        ("Precedence: first-class", False),
        ("List-Id: <news.example.gov.cn>", True),
        ("List-Unsubscribe: <mailto:leave@example.gov.cn>", True),
        ("Return-Path: <>", True),
        ("Return-Path: <zs@yuexiu.gov.cn>", False),
        ("X-Failed-Recipients: a@b.cn", True),
        ('Content-Type: multipart/report; report-type=delivery-status; boundary="x"', True),
    ],
)
def test_automatic_headers(headers: str, automatic: bool) -> None:
    assert (auto_reason(mail(headers)) is not None) is automatic


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example.cn", "postmaster@163.com", "Mailer-Daemon"])
def test_mailer_daemon_senders(sender: str) -> None:
    m = parse_mail(f"From: {sender}\r\nSubject: hello\r\n\r\nx".encode())
    assert auto_reason(m) is not None
    assert is_bounce(m)


@pytest.mark.parametrize(
    ("subject", "automatic", "bounce"),
    [
        ("自动回复: 关于防汛工作的报告", True, False),
        ("自动回复：关于防汛工作的报告", True, False),
        ("自動回覆：關於防汛工作的報告", True, False),  # Traditional
        ("自动答复: 关于防汛工作的报告", True, False),  # zh-CN Outlook
        ("【自动回复】您的邮件已收到", True, False),
        ("Out of Office: report", True, False),
        ("Automatic reply: report", True, False),
        ("Auto: report", True, False),
        ("Undeliverable: 关于防汛工作的报告", True, True),
        ("Delivery Status Notification (Failure)", True, True),
        ("系统退信", True, True),
        ("退信：关于防汛工作的报告", True, True),
        ("来自postmaster@163.com的退信", True, True),
        ("Mail delivery failed: returning message to sender", True, True),
        ("【紧急】关于自动回复系统建设的调研｜越秀区政府｜张三｜李四｜13800000000", False, False),
        ("Re: 【采用】关于退信问题的调研报告", False, False),
        ("关于防汛工作的报告", False, False),
    ],
)
def test_subjects(subject: str, automatic: bool, bounce: bool) -> None:
    m = mail("X-Mailer: test", subject=subject)
    assert (auto_reason(m) is not None) is automatic
    assert is_bounce(m) is bounce


@pytest.mark.parametrize(
    ("headers", "spam"),
    [
        ("X-Spam-Flag: YES", True),
        ("X-Spam-Flag: yes", True),
        ("X-Spam-Flag: NO", False),
        ("X-Spam-Status: Yes, score=12.3 required=5.0", True),
        ("X-Spam-Status: No, score=-1.0 required=5.0", False),
        ("X-Mailer: test", False),
    ],
)
def test_spam_flags(headers: str, spam: bool) -> None:
    assert is_spam(mail(headers)) is spam


def test_handmade_dsn_with_several_recipients() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example.cn\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        b"--B\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        b"--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example.cn\r\n\r\n"
        b"Final-Recipient: rfc822; <Wang.Wu@Haizhu.GOV.cn>\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"Final-Recipient: rfc822; ok@x.cn\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n"
        b"Original-Recipient: rfc822; old@x.cn\r\nFinal-Recipient: rfc822; new@x.cn\r\nAction: failed\r\n\r\n"
        b"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        b"From: bulletin@office.gov.cn\r\nMessage-ID: <bulletin-2026-11-haizhu@office.gov.cn>\r\n"
        b"--B--\r\n"
    )
    m = parse_mail(raw)
    assert auto_reason(m) is not None and is_bounce(m)
    assert bounced_recipients(m) == ["wang.wu@haizhu.gov.cn", "new@x.cn"]
    assert bounced_message_ids(m) == ["bulletin-2026-11-haizhu@office.gov.cn"]
