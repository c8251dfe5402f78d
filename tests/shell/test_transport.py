"""The outgoing edge against a real aiosmtpd server and a real directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailbot.core.errors import ConfigError, PermanentSendError, TransportError
from mailbot.shell.transport import FileTransport, SmtpSecurity, SmtpTransport, eml_name, open_transport
from tests.servers import SmtpCapture

RAW = (
    "From: 政务信息报送 <inbox@example.org>\r\nTo: unit@example.org\r\n"
    "Subject: =?utf-8?b?5pS25Yiw?=\r\nMessage-ID: <r1@mailbot.example.org>\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "已收到贵单位报送的信息。\r\n.a line that starts with a dot\r\n..two dots\r\n"
).encode()


def smtp(capture: SmtpCapture) -> SmtpTransport:
    transport = open_transport(capture.url, None, base_dir=Path("/"), timeout=10)
    assert isinstance(transport, SmtpTransport)
    return transport


@pytest.mark.servers
def test_smtp_delivers_bytes_and_envelope_unchanged(smtp_capture: SmtpCapture) -> None:
    smtp(smtp_capture).send(
        RAW, "inbox@example.org", ["a@example.org", "b@example.org"], "<r1@mailbot.example.org>"
    )
    (got,) = smtp_capture.wait_for(1)
    assert got.content == RAW
    assert got.mail_from == "inbox@example.org"
    assert got.rcpt_tos == ("a@example.org", "b@example.org")


@pytest.mark.servers
def test_smtp_reuses_one_transport_for_many_sends(smtp_capture: SmtpCapture) -> None:
    with smtp(smtp_capture) as transport:
        for n in range(5):
            transport.send(RAW + f"{n}\r\n".encode(), "inbox@example.org", ["a@example.org"], f"<r{n}@x>")
    got = smtp_capture.wait_for(5)
    assert [m.content[-3:] for m in got] == [f"{n}\r\n".encode() for n in range(5)]


@pytest.mark.servers
@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("451 4.3.0 try again later", TransportError),
        ("421 4.3.2 shutting down", TransportError),
        ("550 5.7.1 message refused", PermanentSendError),
        ("554 5.6.0 content rejected", PermanentSendError),
    ],
)
def test_smtp_data_refusals_are_temporary_or_permanent(
    smtp_capture: SmtpCapture, reply: str, error: type[Exception]
) -> None:
    smtp_capture.data_reply = reply
    with pytest.raises(error) as info:
        smtp(smtp_capture).send(RAW, "inbox@example.org", ["a@example.org"], "<r1@x>")
    assert (info.type is PermanentSendError) == (error is PermanentSendError)
    assert reply.split()[0] in str(info.value)
    assert smtp_capture.messages == []


@pytest.mark.servers
def test_smtp_every_recipient_refused_is_permanent(smtp_capture: SmtpCapture) -> None:
    smtp_capture.rcpt_replies["a@example.org"] = "550 5.1.1 no such user"
    smtp_capture.rcpt_replies["b@example.org"] = "553 5.1.3 bad address"
    with pytest.raises(PermanentSendError, match=r"a@example\.org"):
        smtp(smtp_capture).send(RAW, "inbox@example.org", ["a@example.org", "b@example.org"], "<r1@x>")


@pytest.mark.servers
def test_smtp_deferred_recipients_are_temporary(smtp_capture: SmtpCapture) -> None:
    smtp_capture.rcpt_replies["a@example.org"] = "450 4.2.0 mailbox busy"
    with pytest.raises(TransportError) as info:
        smtp(smtp_capture).send(RAW, "inbox@example.org", ["a@example.org"], "<r1@x>")
    assert not isinstance(info.value, PermanentSendError)


@pytest.mark.servers
def test_smtp_partial_refusal_still_delivers_to_the_rest(smtp_capture: SmtpCapture) -> None:
    smtp_capture.rcpt_replies["gone@example.org"] = "550 5.1.1 no such user"
    smtp(smtp_capture).send(RAW, "inbox@example.org", ["gone@example.org", "b@example.org"], "<r1@x>")
    (got,) = smtp_capture.wait_for(1)
    assert got.rcpt_tos == ("b@example.org",)


@pytest.mark.servers
def test_smtp_server_down_then_back(smtp_capture: SmtpCapture) -> None:
    with smtp(smtp_capture) as transport:
        transport.send(RAW, "inbox@example.org", ["a@example.org"], "<r1@x>")
        smtp_capture.stop()
        with pytest.raises(TransportError) as info:
            transport.send(RAW, "inbox@example.org", ["a@example.org"], "<r2@x>")
        assert not isinstance(info.value, PermanentSendError)
        smtp_capture.start()
        transport.send(RAW, "inbox@example.org", ["a@example.org"], "<r3@x>")
    assert len(smtp_capture.wait_for(2)) == 2


def test_smtp_nothing_listening_is_temporary() -> None:
    from tests.servers import free_port

    transport = SmtpTransport("127.0.0.1", free_port(), timeout=5)
    with pytest.raises(TransportError, match="connect"):
        transport.send(RAW, "inbox@example.org", ["a@example.org"], "<r1@x>")


# -- files -------------------------------------------------------------------------------------


def test_file_transport_writes_one_file_per_message_id(tmp_path: Path) -> None:
    transport = open_transport("file://var/outbox", None, base_dir=tmp_path)
    assert isinstance(transport, FileTransport)
    transport.send(RAW, "inbox@example.org", ["a@example.org"], "<r1@mailbot.example.org>")
    transport.send(RAW + b"changed", "inbox@example.org", ["a@example.org"], "<r1@mailbot.example.org>")
    transport.send(RAW, "inbox@example.org", ["a@example.org"], "<r2@mailbot.example.org>")
    outbox = tmp_path / "var" / "outbox"
    assert sorted(os.listdir(outbox)) == ["r1@mailbot.example.org.eml", "r2@mailbot.example.org.eml"]
    assert (outbox / "r1@mailbot.example.org.eml").read_bytes() == RAW


def test_file_transport_absolute_url(tmp_path: Path) -> None:
    transport = open_transport(f"file://{tmp_path}/out", None, base_dir=Path("/nowhere"))
    transport.send(RAW, "inbox@example.org", ["a@example.org"], "<x@y>")
    assert (tmp_path / "out" / "x@y.eml").read_bytes() == RAW


@pytest.mark.parametrize(
    "ids",
    [
        ["<a/b@x>", "<a_b@x>", "<a\\b@x>"],
        ["<../../etc/passwd>", "<..@x>"],
        ["<报送@x>", "<通报@x>"],
        ["<" + "a" * 300 + "1@x>", "<" + "a" * 300 + "2@x>"],
    ],
)
def test_eml_names_are_safe_and_distinct(ids: list[str]) -> None:
    names = [eml_name(i) for i in ids]
    assert len(set(names)) == len(ids)
    for name in names:
        assert "/" not in name and "\\" not in name and not name.startswith(".")
        assert len(name) < 200 and name.endswith(".eml")


def test_file_transport_unwritable_dir_is_transport_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(TransportError):
        FileTransport(blocker / "outbox").send(RAW, "a@x", ["b@x"], "<m@x>")


# -- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "port", "security", "user"),
    [
        ("smtp://127.0.0.1:10025", "127.0.0.1", 10025, SmtpSecurity.PLAIN, None),
        (
            "smtps://bot%40example.org@mail.example.org",
            "mail.example.org",
            465,
            SmtpSecurity.TLS,
            "bot@example.org",
        ),
        ("smtp+starttls://u@mail.example.org", "mail.example.org", 587, SmtpSecurity.STARTTLS, "u"),
        ("smtp://relay", "relay", 25, SmtpSecurity.PLAIN, None),
    ],
)
def test_smtp_urls(url: str, host: str, port: int, security: SmtpSecurity, user: str | None) -> None:
    transport = open_transport(url, "pw", base_dir=Path("/"))
    assert isinstance(transport, SmtpTransport)
    assert (transport.host, transport.port, transport.security, transport.username) == (
        host,
        port,
        security,
        user,
    )


@pytest.mark.parametrize(
    "url",
    ["lmtp://h:24", "smtp://:25", "smtp://h:port", "smtp://h?tls=1", "file://", "127.0.0.1:25", "smtp://u@h"],
)
def test_bad_smtp_urls_name_the_key(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILBOT_SMTP_PASSWORD", raising=False)
    with pytest.raises(ConfigError) as info:
        open_transport(url, None, base_dir=Path("/"), config_file="config/mailbot.toml")
    assert (info.value.file, info.value.key) == ("config/mailbot.toml", "smtp.url")


def test_smtp_password_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILBOT_SMTP_PASSWORD", "from-env")
    transport = open_transport("smtp://u:from-url@h", None, base_dir=Path("/"))
    assert isinstance(transport, SmtpTransport) and transport._password == "from-env"
    transport = open_transport("smtp://u:from-url@h", "from-arg", base_dir=Path("/"))
    assert isinstance(transport, SmtpTransport) and transport._password == "from-arg"


@pytest.mark.servers
def test_smtp_to_imap_delivers_into_the_mailbox(
    smtp_to_imap: SmtpCapture, imap_account: tuple[str, str, str], tmp_path: Path
) -> None:
    from mailbot.shell.mailbox import open_mailbox

    address, password, url = imap_account
    smtp(smtp_to_imap).send(RAW, "unit@example.org", [address], "<r1@mailbot.example.org>")
    with pytest.raises(PermanentSendError):
        smtp(smtp_to_imap).send(RAW, "unit@example.org", ["nobody-here@example.org"], "<r2@x>")
    mb = open_mailbox(url, password, base_dir=tmp_path)
    (item,) = mb.fetch_new()
    mb.close()
    assert item.raw.endswith(RAW)  # Dovecot prepends Return-Path and Received


@pytest.mark.parametrize(
    ("imap", "smtp", "problem"),
    [
        ("imap://u@h:99999/INBOX", "smtp://h:99999", "bad port"),
        ("imap://u@h/INBOX?timeout=soon", "smtp://h?timeout=soon", "timeout must be a number"),
        ("imap://u@h/INBOX?verify=0", "smtp://h?verify=0", "unknown URL option(s) ['verify']"),
    ],
)
def test_mailbox_and_smtp_urls_report_the_same_fault_the_same_way(imap: str, smtp: str, problem: str) -> None:
    from mailbot.shell.mailbox import open_mailbox

    with pytest.raises(ConfigError) as in_imap:
        open_mailbox(imap, "pw", base_dir=Path("/"), config_file="mailbot.toml")
    with pytest.raises(ConfigError) as in_smtp:
        open_transport(smtp, "pw", base_dir=Path("/"), config_file="mailbot.toml")
    assert (in_imap.value.key, in_smtp.value.key) == ("mailbox.url", "smtp.url")
    assert problem in in_imap.value.problem and problem in in_smtp.value.problem
