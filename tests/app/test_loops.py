"""Mail loops: an address that answers every mail automatically gets at most one mail from mailbot.

The SMTP peer here is a loopback aiosmtpd server that behaves like the far side:
for each mail it receives for a chosen address it puts an out-of-office reply or a
bounce (DSN) back into mailbot's own inbox over IMAP, as the real mail system would.
Then several `poll --once` cycles run (each also delivers what it queued) and the
test counts what mailbot sent to that address.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from email.policy import SMTP, default
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from imapclient import IMAPClient

from mailbot.demo import samples
from tests.office import REVIEWER, Office, make_office
from tests.servers import HOST, Dovecot, free_port

pytestmark = pytest.mark.servers

OFFICER = "qx01@gz.example.org"
INBOX = "inbox@example.org"  # mailbot's From in tests/office.py
CYCLES = 3  # file + send; the answers arrive and are read; nothing further happens
UNITS = """
[[unit]]
id = "QX01"
name = "越秀区政府"
short = "越秀区"
series = "区县"
officers = ["qx01@gz.example.org"]
bulletin_to = ["qx01@gz.example.org", "qx01-leader@gz.example.org"]

[[unit]]
id = "BA01"
name = "市发改委"
short = "发改委"
series = "部门A"
officers = ["ba01@gz.example.org"]
bulletin_to = ["ba01@gz.example.org"]
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _answer_base(original: EmailMessage, sender: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = INBOX
    msg["Subject"] = subject
    msg["Date"] = format_datetime(_now())
    msg["Message-ID"] = make_msgid(domain="gz.example.org")
    if original["Message-ID"]:
        msg["In-Reply-To"] = str(original["Message-ID"])
        msg["References"] = str(original["Message-ID"])
    return msg


def rfc3834_reply(original: EmailMessage, rcpt: str) -> bytes:
    """An out-of-office reply as Exchange/Coremail send it: Auto-Submitted and a 自动回复 subject."""
    msg = _answer_base(original, rcpt, f"自动回复: {original['Subject']}")
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content("您好，我正在休假，11月10日返回，期间邮件将延迟处理。\n")
    return msg.as_bytes(policy=SMTP)


def qq_reply(original: EmailMessage, rcpt: str) -> bytes:
    """QQMail's 自动回复: no Auto-Submitted header, only the subject says it."""
    msg = _answer_base(original, rcpt, f"自动回复：{original['Subject']}")
    msg["X-Mailer"] = "QQMail 2.x"
    msg.set_content("这是来自QQ邮箱的假期自动回复邮件。您好，我最近正在休假中，无法亲自回复您的邮件。\n")
    return msg.as_bytes(policy=SMTP)


def unmarked_reply(original: EmailMessage, rcpt: str) -> bytes:
    """A home-made responder with no marker at all: 'Re:' and a canned text, like a person's reply."""
    msg = _answer_base(original, rcpt, f"Re: {original['Subject']}")
    msg.set_content("收到。本人出差，回来后处理。\n")
    return msg.as_bytes(policy=SMTP)


def dsn_bounce(original: EmailMessage, rcpt: str) -> bytes:
    """A delivery-status notification (RFC 3464) from the recipient's server: mailbox full."""
    msg = _answer_base(original, "Mail Delivery System <MAILER-DAEMON@gz.example.org>", "系统退信")
    del msg["In-Reply-To"], msg["References"]
    msg.set_content(f"很抱歉，您发送的邮件无法送达 {rcpt}：收件人邮箱已满。\n")
    headers = "".join(f"{k}: {v}\n" for k, v in original.items())
    msg.add_attachment(headers.encode(), maintype="text", subtype="rfc822-headers")
    raw = msg.as_bytes(policy=SMTP)
    # EmailMessage cannot build multipart/report itself: write the DSN as the MTA does.
    boundary = msg.get_boundary()
    assert boundary is not None
    dsn_part = (
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.gz.example.org\r\n\r\nFinal-Recipient: rfc822; {rcpt}\r\n"
        "Action: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 mailbox full\r\n\r\n"
    ).encode()
    raw = raw.replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)
    first = raw.index(f"--{boundary}".encode(), raw.index(f"--{boundary}".encode()) + 1)
    return raw[:first] + dsn_part + raw[first:]


Responder = Callable[[EmailMessage, str], bytes]


class AutoPeer:
    """The far side's mail system: records every mail, and answers mail for chosen addresses into our inbox."""

    def __init__(self, dovecot: Dovecot, inbox: tuple[str, str]) -> None:
        self.dovecot, self.inbox = dovecot, inbox
        self.responders: dict[str, Responder] = {}
        self.received: list[tuple[str, EmailMessage]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(self, hostname=HOST, port=self.port, ready_timeout=10)

    @property
    def url(self) -> str:
        return f"smtp://{HOST}:{self.port}"

    def _append(self, raw: bytes) -> None:
        with IMAPClient(self.dovecot.host, port=self.dovecot.imap_port, ssl=False) as c:
            c.login(*self.inbox)
            c.append("INBOX", raw)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        original = email.message_from_bytes(envelope.original_content, policy=default)
        assert isinstance(original, EmailMessage)
        answers = []
        for rcpt in envelope.rcpt_tos:
            with self.lock:
                self.received.append((rcpt.lower(), original))
            responder = self.responders.get(rcpt.lower())
            if responder is not None:
                answers.append(responder(original, rcpt))
        loop = asyncio.get_running_loop()
        for raw in answers:
            # In mailbot's inbox before this mail is acknowledged: the next poll sees it.
            await loop.run_in_executor(None, self._append, raw)
        return "250 OK"

    def count(self) -> Counter[str]:
        with self.lock:
            return Counter(rcpt for rcpt, _ in self.received)


@pytest.fixture
def peer(dovecot: Dovecot, imap_account: tuple[str, str, str]) -> Iterator[AutoPeer]:
    address, password, _ = imap_account
    server = AutoPeer(dovecot, (address, password))
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def office(tmp_path: Path, imap_account: tuple[str, str, str], peer: AutoPeer) -> Office:
    _, password, url = imap_account
    office = make_office(tmp_path / "office", mailbox_url=url, smtp_url=peer.url, imap_password=password)
    (office.root / "units.toml").write_text(UNITS, encoding="utf-8")
    return office


def submit(dovecot: Dovecot, imap_account: tuple[str, str, str], raw: bytes) -> None:
    address, password, _ = imap_account
    with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
        c.login(address, password)
        c.append("INBOX", raw)


def submission() -> bytes:
    subject = samples.labelled_subject(
        "越秀区开展安全生产大检查", "越秀区政府", "张三", "李四", "020-83123456"
    )
    return samples.submission(
        sender=OFFICER,
        subject=subject,
        body="越秀区开展安全生产大检查，整改隐患35处。\n",
        date=_now(),
        message_id=f"<{uuid.uuid4().hex}@gz.example.org>",
    )


def cycles(office: Office, n: int = CYCLES) -> list[dict[str, Any]]:
    for _ in range(n):
        office.run("poll", "--once")
    messages: list[dict[str, Any]] = office.json("messages", "list")
    return messages


RESPONDERS = [
    ("rfc3834 auto-reply", rfc3834_reply),
    ("QQ auto-reply, subject only", qq_reply),
    ("DSN bounce", dsn_bounce),
]


@pytest.mark.parametrize(("kind", "responder"), RESPONDERS, ids=[k for k, _ in RESPONDERS])
def test_auto_answering_officer_and_reviewer_get_one_mail_each(
    kind: str,
    responder: Responder,
    office: Office,
    peer: AutoPeer,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
) -> None:
    """The officer's receipt and the reviewer's review request come back as auto-replies or bounces: never answered."""
    peer.responders[OFFICER] = responder
    peer.responders[REVIEWER] = responder
    submit(dovecot, imap_account, submission())
    messages = cycles(office)
    assert peer.count() == Counter({OFFICER: 1, REVIEWER: 1})  # the receipt, the review request, nothing more
    answers = [m for m in messages if m["disposition"] != "item"]
    assert [m["disposition"] for m in answers] == ["ignored", "ignored"], messages
    assert [i["status"] for i in office.json("items", "list")] == ["pending"]


def test_unmarked_responder_gets_at_most_one_answer(
    office: Office, peer: AutoPeer, dovecot: Dovecot, imap_account: tuple[str, str, str]
) -> None:
    peer.responders[OFFICER] = unmarked_reply
    submit(dovecot, imap_account, submission())
    cycles(office)
    assert peer.count()[OFFICER] <= 2, (
        peer.count()
    )  # the receipt, and at most one note that replies are not read


def test_bulletin_to_auto_answering_and_bouncing_addresses_is_sent_once(
    office: Office, peer: AutoPeer, dovecot: Dovecot, imap_account: tuple[str, str, str]
) -> None:
    """Every bulletin_to address answers automatically (one bounces): each gets the bulletin once, nothing else."""
    peer.responders.update(
        {
            "qx01@gz.example.org": rfc3834_reply,
            "qx01-leader@gz.example.org": qq_reply,
            "ba01@gz.example.org": dsn_bounce,
        }
    )
    period = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m")
    office.run("bulletin", "--period", period, "--send")
    cycles(office, 2)
    office.run("bulletin", "--period", period, "--send")  # a re-run never sends twice (SPEC §6)
    messages = cycles(office, 2)
    counts = peer.count()
    assert counts == Counter(
        {"qx01@gz.example.org": 1, "qx01-leader@gz.example.org": 1, "ba01@gz.example.org": 1}
    )
    assert sorted(m["disposition"] for m in messages) == ["ignored"] * 3
    for _, msg in peer.received:
        assert msg["Auto-Submitted"] == "auto-generated"


def test_responders_produce_what_real_systems_send() -> None:
    """The peer's answers carry the markers they claim (else the loop tests prove nothing)."""
    original = email.message_from_bytes(submission(), policy=default)
    assert isinstance(original, EmailMessage)
    auto = email.message_from_bytes(rfc3834_reply(original, OFFICER), policy=default)
    assert auto["Auto-Submitted"] == "auto-replied" and str(auto["Subject"]).startswith("自动回复")
    qq = email.message_from_bytes(qq_reply(original, OFFICER), policy=default)
    assert qq["Auto-Submitted"] is None and str(qq["Subject"]).startswith("自动回复")
    dsn = email.message_from_bytes(dsn_bounce(original, OFFICER), policy=default)
    assert dsn.get_content_type() == "multipart/report"
    assert [p.get_content_type() for p in dsn.iter_parts()] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    assert f"Final-Recipient: rfc822; {OFFICER}" in dsn.as_string()
    plain = email.message_from_bytes(unmarked_reply(original, OFFICER), policy=default)
    assert plain["Auto-Submitted"] is None and str(plain["In-Reply-To"]) == str(original["Message-ID"])
