"""Hostile mail never gets in: path tricks, bombs, injection, forged reviewers, wrong units, SQL.

Each test submits the hostile mail the way an attacker would (IMAP APPEND to the real
Dovecot mailbox, then `mailbot poll --once` in a subprocess) and checks what an
operator would see: the files on disk, the mails that went out, `items show --json`.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Sequence
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest

from mailbot.core.mail.mime import parse_mail
from mailbot.demo import samples
from tests.app.test_intake import deliver
from tests.office import REVIEWER, Office, make_office, parse, text_of
from tests.servers import Dovecot, SmtpCapture

pytestmark = pytest.mark.servers

OFFICER = "qx01@gz.example.org"  # 越秀区政府 (QX01)
OTHER_OFFICER = "ba01@gz.example.org"  # 市发改委 (BA01)
GOOD_SUBJECT = samples.labelled_subject(
    "越秀区开展安全生产大检查", "越秀区政府", "张三", "李四", "020-83123456"
)
BODY = "越秀区开展安全生产大检查，共检查企业120家，整改隐患35处。\n"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RSS_LIMIT_KB = 400 * 1024  # a poll over one hostile mail must stay under 400 MB
MB = 1_000_000


@pytest.fixture
def office(tmp_path: Path, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture) -> Office:
    _, password, url = imap_account
    return make_office(
        tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password
    )


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def good(subject: str = GOOD_SUBJECT, sender: str = OFFICER, body: str = BODY, **kw: object) -> bytes:
    return samples.submission(sender=sender, subject=subject, body=body, date=now(), **kw)  # type: ignore[arg-type]


def b64_word(text: str) -> str:
    """An RFC 2047 UTF-8 encoded word: how a client puts any text (even CR/LF) into a header."""
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


def handmade(
    sender: str, subject_header: str, body: str, parts: Sequence[tuple[str, bytes]] = (), message_id: str = ""
) -> bytes:
    """A multipart mail written byte by byte: `parts` are (raw part headers, payload), for names no library writes."""
    boundary = "=_b_" + uuid.uuid4().hex
    out = [
        f"From: {sender}",
        "To: inbox@example.org",
        f"Subject: {subject_header}",
        f"Date: {now():%a, %d %b %Y %H:%M:%S +0000}",
        f"Message-ID: {message_id or f'<{uuid.uuid4().hex}@gz.example.org>'}",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        f"--{boundary}",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: base64",
        "",
        base64.encodebytes(body.encode()).decode(),
    ]
    raw = "\r\n".join(out).encode()
    for head, payload in parts:
        raw += f"\r\n--{boundary}\r\n{head}\r\nContent-Transfer-Encoding: base64\r\n\r\n".encode(
            "utf-8", "surrogateescape"
        )
        raw += base64.encodebytes(payload).replace(b"\n", b"\r\n")
    return raw + f"\r\n--{boundary}--\r\n".encode()


def sent_to(smtp: SmtpCapture, address: str) -> list[EmailMessage]:
    return [parse(m.content) for m in smtp.messages if address in m.rcpt_tos]


def only_item(office: Office) -> dict[str, object]:
    (item,) = office.json("items", "list")
    shown: dict[str, object] = office.json("items", "show", str(item["id"]))
    return shown


# ---------------------------------------------------------------- attachment names


HOSTILE_NAMES = [
    ("traversal", 'filename="../../../../../../tmp/{tag}-up.jpg"'),
    ("absolute", 'filename="/tmp/{tag}-abs.jpg"'),
    ("windows-traversal", 'filename="..\\\\..\\\\..\\\\{tag}-win.png"'),
    ("drive", 'filename="C:\\\\Windows\\\\System32\\\\{tag}-drive.gif"'),
    ("nul-2231", "filename*=utf-8''{tag}%00.jpg%00..%2F..%2Fx.png"),
    ("nul-raw", 'filename="{tag}\x00evil.jpg"'),
    ("device-con", 'filename="CON.jpg"'),
    ("device-nul", 'filename="nul.png"'),
    ("device-com1", 'filename="com1.jpeg"'),
    ("device-lpt", 'filename="LPT9.gif"'),
    ("dots", 'filename=".."'),
    ("encoded-traversal", 'filename="=?UTF-8?B?{enc}?="'),
    ("long", 'filename="' + "长" * 300 + '.jpg"'),
    ("bidi", 'filename="{tag}\u202egpj.exe"'),
]


def test_attachment_names_never_escape_the_archive(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    tag = f"mailbot-escape-{uuid.uuid4().hex[:8]}"
    enc = base64.b64encode(f"../../../tmp/{tag}-enc.jpg".encode()).decode()
    picture = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4
    parts = [
        (
            f"Content-Type: image/jpeg\r\nContent-Disposition: attachment; {spec.format(tag=tag, enc=enc)}",
            picture + name.encode(),
        )
        for name, spec in HOSTILE_NAMES
    ]
    parts.append(
        (
            f'Content-Type: {DOCX}\r\nContent-Disposition: attachment; filename="../../{tag}-doc.docx"',
            samples.docx_bytes(["越秀区开展安全生产大检查", BODY]),
        )
    )
    deliver(dovecot, imap_account, handmade(OFFICER, b64_word(GOOD_SUBJECT), BODY, parts))
    office.run("poll", "--once")

    item = only_item(office)
    assert item["status"] == "pending"
    assert len(item["attachments"]) == len(HOSTILE_NAMES) + 1  # type: ignore[arg-type]
    archive = (office.root / "var" / "archive").resolve()
    stored = [p for p in archive.rglob("*") if p.is_file()]
    assert len(stored) >= len(HOSTILE_NAMES) + 2  # the mail, every picture and the document
    for p in stored:
        assert p.resolve().is_relative_to(archive)
        assert re.fullmatch(r"[0-9a-f]{64}\.[A-Za-z0-9_\-]{1,10}", p.name), p.name
    # Nothing was written outside the office folder, nor next to it.
    outside = [p for p in office.root.resolve().parent.rglob(f"*{tag}*")]
    assert outside == [] and list(Path("/tmp").glob(f"{tag}*")) == []
    assert {p.name for p in office.root.iterdir()} <= {"mailbot.toml", "units.toml", "scoring.toml", "var"}


def test_reviewers_get_attachments_under_safe_names(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    parts = [
        (
            'Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename="../../../etc/cron.d/x.jpg"',
            b"\xff\xd8\xff\xe0" + b"x" * 100,
        )
    ]
    deliver(dovecot, imap_account, handmade(OFFICER, b64_word(GOOD_SUBJECT), BODY, parts))
    office.run("poll", "--once")
    smtp_capture.wait_for(2)
    (review,) = sent_to(smtp_capture, REVIEWER)
    names = [a.get_filename() or "" for a in review.iter_attachments()]
    assert names and all("/" not in n and "\\" not in n and ".." not in n for n in names), names


# ---------------------------------------------------------------- bombs and huge mail


_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:])\n"
    "print('PEAK_RSS_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(p.returncode)\n"
)


def poll_measured(office: Office) -> tuple[subprocess.CompletedProcess[str], int]:
    """`mailbot poll --once` in a fresh child whose peak resident memory (KB) is measured."""
    cmd = [
        sys.executable,
        "-c",
        _RSS_WRAPPER,
        sys.executable,
        "-m",
        "mailbot",
        "poll",
        "--once",
        "-c",
        str(office.config),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=office.env, timeout=300)
    m = re.search(r"PEAK_RSS_KB (\d+)", proc.stderr)
    assert m, proc.stderr
    return proc, int(m.group(1))


@cache
def zip_bomb_docx(inflated: int = 400 * MB) -> bytes:
    """A real .docx whose word/document.xml inflates to `inflated` bytes (honest sizes, ~0.4 MB on the wire)."""
    base = zipfile.ZipFile(io.BytesIO(samples.docx_bytes(["越秀区开展安全生产大检查"])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in base.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info, base.read(info))
                continue
            xml = base.read(info)
            head, tail = xml.split(b"<w:body>")
            with z.open("word/document.xml", "w", force_zip64=True) as fh:
                fh.write(head + b"<w:body>")
                chunk = b" " * MB
                for _ in range(inflated // MB):
                    fh.write(chunk)
                fh.write(tail)
    return out.getvalue()


def test_docx_zip_bomb_is_refused_without_exhausting_memory(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    bomb = zip_bomb_docx()
    assert len(bomb) < 2 * MB
    deliver(dovecot, imap_account, good(attachments=[("越秀区安全生产.docx", DOCX, bomb)]))
    proc, peak = poll_measured(office)
    assert proc.returncode == 0, proc.stderr
    assert peak < RSS_LIMIT_KB, f"peak RSS {peak // 1024} MB"
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "refused" and "超过上限 50 MB" in msg["reason"]
    (reply,) = sent_to(smtp_capture, OFFICER)
    assert "邮件超过大小限制" in text_of(reply) and "50 MB" in text_of(reply)


def huge_submission(megabytes: int) -> bytes:
    """An officer's submission with a picture of `megabytes` MB, built without holding extra copies."""
    picture = base64.encodebytes(bytes(range(256)) * (megabytes * MB // 256)).replace(b"\n", b"\r\n")
    head = handmade(OFFICER, b64_word(GOOD_SUBJECT), BODY).rsplit(b"\r\n--", 1)[0]
    boundary = re.search(rb'boundary="([^"]+)"', head)
    assert boundary is not None
    part = (
        b"\r\n--" + boundary.group(1) + b"\r\nContent-Type: image/jpeg\r\n"
        b'Content-Disposition: attachment; filename="photo.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
    )
    return head + part + picture + b"\r\n--" + boundary.group(1) + b"--\r\n"


def test_hundred_megabyte_attachment_is_refused_without_exhausting_memory(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    address, _, _ = imap_account
    dovecot.seed(address, [huge_submission(100)])  # APPEND takes 10 s more and changes nothing here
    proc, peak = poll_measured(office)
    assert proc.returncode == 0, proc.stderr
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "refused" and "超过上限 20 MB" in msg["reason"]
    (reply,) = sent_to(smtp_capture, OFFICER)
    assert "邮件超过大小限制" in text_of(reply) and "20 MB" in text_of(reply)
    assert peak < RSS_LIMIT_KB, f"peak RSS {peak // 1024} MB"


def test_mail_over_the_limit_is_read_for_its_headers_only() -> None:
    """parse_mail(max_bytes=…) is what lets the intake refuse a huge mail cheaply (intake calls it with the size limit)."""
    raw = huge_submission(3)
    full, head_only = parse_mail(raw), parse_mail(raw, max_bytes=MB)
    assert full.attachments and not head_only.attachments and head_only.text == ""
    assert (head_only.from_addr, head_only.subject, head_only.message_id) == (
        full.from_addr,
        full.subject,
        full.message_id,
    )
    assert any("body not read" in d for d in head_only.defects)
    assert parse_mail(raw, max_bytes=len(raw)) == full


@pytest.mark.parametrize(
    ("limits", "attachment", "named"),
    [
        ("max_message_bytes = 3000000", ("现场.jpg", "image/jpeg", b"\xff\xd8" + b"\x01" * 4 * MB), "3 MB"),
        ("max_extracted_bytes = 2000000", ("材料.docx", DOCX, "bomb"), "2 MB"),
        ("max_extracted_bytes = 500000", ("材料.docx", DOCX, "bomb"), "0.5 MB"),
        ("max_message_bytes = 500000", ("现场.jpg", "image/jpeg", b"\xff\xd8" + b"\x01" * MB), "0.5 MB"),
    ],
)
def test_limits_are_configurable_and_named_in_the_refusal(
    limits: str,
    attachment: tuple[str, str, object],
    named: str,
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str, str],
    smtp_capture: SmtpCapture,
) -> None:
    _, password, url = imap_account
    office = make_office(
        tmp_path / "o",
        mailbox_url=url,
        smtp_url=smtp_capture.url,
        imap_password=password,
        extra=f"[limits]\n{limits}\n",
    )
    name, ctype, data = attachment
    payload = zip_bomb_docx(10 * MB) if data == "bomb" else data
    assert isinstance(payload, bytes)
    deliver(dovecot, imap_account, good(attachments=[(name, ctype, payload)]))
    office.run("poll", "--once")
    (msg,) = office.json("messages", "list")
    assert msg["disposition"] == "refused" and f"超过上限 {named}" in msg["reason"]
    (reply,) = sent_to(smtp_capture, OFFICER)
    assert f"超过上限 {named}" in text_of(reply)


# ---------------------------------------------------------------- escaping and header injection

HOSTILE_TITLE = (
    '<script>alert("x")</script>&amp;&lt;b&gt;越秀区安全\r\nBcc: victim@evil.example\r\nX-Injected: 1'
)


def _assert_clean_headers(msg: EmailMessage, raw: bytes) -> None:
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    names = {
        line.split(b":", 1)[0].lower()
        for line in re.split(rb"\r?\n", head)
        if line and line[:1] not in b" \t"
    }
    assert b"bcc" not in names and b"x-injected" not in names, names
    for key, value in msg.items():
        assert "\r" not in str(value) and "\n" not in str(value), (key, value)


def _assert_escaped(msg: EmailMessage) -> None:
    html_part = msg.get_body(("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html
    assert "&amp;amp;&amp;lt;b&amp;gt;" in html  # the sender's entities are shown as typed, not interpreted
    assert '<script>alert("x")</script>' in text_of(msg)  # plain text carries it verbatim


def test_hostile_title_is_escaped_in_every_mail_and_never_reaches_a_header(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    # Positional: a labelled subject would end the title at the entities' ';'.
    subject = samples.positional_subject(HOSTILE_TITLE, "越秀区政府", "张三", "<b>李四</b>", "020-83123456")
    deliver(dovecot, imap_account, handmade(OFFICER, b64_word(subject), BODY))
    office.run("poll", "--once")
    item = only_item(office)
    assert str(item["title"]).startswith('<script>alert("x")</script>&amp;&lt;b&gt;越秀区安全')
    assert "\n" not in str(item["title"]) and "\r" not in str(item["title"])
    smtp_capture.wait_for(2)
    (review,) = sent_to(smtp_capture, REVIEWER)
    reply = samples.reply(sender=REVIEWER, to_message=review.as_bytes(), command="采用", date=now())
    deliver(dovecot, imap_account, reply)
    office.run("poll", "--once")
    smtp_capture.wait_for(4)  # + the reviewer's confirmation and the officer's notice
    # The same title refused (wrong unit) is escaped in the refusal too.
    deliver(
        dovecot, imap_account, handmade(OFFICER, b64_word(subject.replace("越秀区政府", "市发改委")), BODY)
    )
    office.run("poll", "--once")
    got = smtp_capture.wait_for(5)
    kinds: set[tuple[str, ...]] = set()
    for captured in got:
        msg = parse(captured.content)
        _assert_clean_headers(msg, captured.content)
        _assert_escaped(msg)
        kinds.add(captured.rcpt_tos)
    assert len(got) == 5 and kinds == {(OFFICER,), (REVIEWER,)}


# ---------------------------------------------------------------- forged reviewer

FORGED: list[tuple[str, str | tuple[str, ...] | None, bool]] = [
    (
        "dkim and spf fail",
        "mx.example.org; dkim=fail header.d=example.org; spf=fail smtp.mailfrom=example.org",
        False,
    ),
    (
        "pass from an untrusted server",
        "mx.evil.example; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org",
        False,
    ),
    (
        "pass for another domain",
        "mx.example.org; dkim=pass header.d=evil.example; spf=pass smtp.mailfrom=evil.example",
        False,
    ),
    ("no header", None, False),
    (
        # The sender writes a passing header claiming our authserv-id; our MTA adds its failing one on top.
        "forged pass below our failing header",
        (
            "mx.example.org; dkim=fail header.d=example.org; spf=fail smtp.mailfrom=evil.example",
            "mx.example.org; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org",
        ),
        False,
    ),
    ("genuine", "mx.example.org; dkim=pass header.d=example.org; spf=pass smtp.mailfrom=example.org", True),
]


def test_forged_reviewer_reply_is_not_applied(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    """One item per case; each review request is answered 采用 From the reviewer with that case's header."""
    _, password, url = imap_account
    office = make_office(
        tmp_path / "o",
        mailbox_url=url,
        smtp_url=smtp_capture.url,
        imap_password=password,
        extra='require_authenticated_sender = true\nauthserv_id = "mx.example.org"\n',
    )
    titles = {case: f"越秀区安全检查第{n}批" for n, (case, _, _) in enumerate(FORGED, 1)}
    for case, _, _ in FORGED:
        deliver(
            dovecot,
            imap_account,
            good(samples.labelled_subject(titles[case], "越秀区政府", "张三", "李四", "020-83123456")),
        )
    office.run("poll", "--once")
    smtp_capture.wait_for(2 * len(FORGED))
    requests = {
        str(m["Subject"]).split("] ", 1)[1].split("（")[0]: m for m in sent_to(smtp_capture, REVIEWER)
    }
    replies = {}
    for case, auth, _ in FORGED:
        reply = samples.reply(
            sender=REVIEWER, to_message=requests[titles[case]].as_bytes(), command="采用", date=now()
        )
        headers = (auth,) if isinstance(auth, str) else auth or ()  # topmost first, as the MTA leaves them
        replies[case] = b"".join(f"Authentication-Results: {h}\r\n".encode() for h in headers) + reply
    smtp_capture.clear()
    deliver(dovecot, imap_account, *replies.values())
    office.run("poll", "--once")
    items = {i["title"]: i for i in office.json("items", "list")}
    by_sha = {m["sha256"]: m for m in office.json("messages", "list")}
    from mailbot.shell.archive import digest

    for case, _, applied in FORGED:
        # Dovecot hands back the bytes as appended (CRLF already), so the archive digest matches.
        row = by_sha[digest(replies[case])]
        item = items[titles[case]]
        if applied:
            assert (row["disposition"], item["status"]) == ("decision", "adopted"), case
        else:
            assert (row["disposition"], item["status"]) == ("refused", "pending"), case
            assert office.json("items", "show", item["id"])["events"] == []
    # Only the genuine decision told the officer anything.
    notices = [str(m["Subject"]) for m in sent_to(smtp_capture, OFFICER)]
    assert len(notices) == 1 and titles["genuine"] in notices[0]


# ---------------------------------------------------------------- officer of unit A filing for unit B

WRONG_UNIT = [
    (
        "labelled full name",
        samples.labelled_subject("市发改委召开项目推进会", "市发改委", "王五", "赵六", "13800138000"),
        BODY,
    ),
    (
        "alias",
        samples.labelled_subject("项目推进会", "广州市发展和改革委员会", "王五", "赵六", "13800138000"),
        BODY,
    ),
    ("traditional", "標題：項目推進會；單位：市發改委；簽發人：王五；報送人：趙六；電話：13800138000", BODY),
    (
        "positional",
        samples.positional_subject("市发改委召开项目推进会", "发改委", "王五", "赵六", "13800138000"),
        BODY,
    ),
    (
        "unit only in the signature",
        "市发改委召开项目推进会",
        BODY + "\n单位：市发改委\n签发人：王五\n报送人：赵六 电话：13800138000\n",
    ),
]


def test_officer_of_one_unit_cannot_file_for_another(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, *(good(subject, body=body) for _, subject, body in WRONG_UNIT))
    office.run("poll", "--once")
    items = office.json("items", "list")
    assert len(items) == len(WRONG_UNIT)
    for item in items:
        assert item["status"] == "refused" and item["unit"] != "BA01", item
        assert "发件人不是所填单位的信息员" in item["reason"], item
    replies = sent_to(smtp_capture, OFFICER)
    assert len(replies) == len(WRONG_UNIT)
    assert all("发件人不是所填单位的信息员" in text_of(r) for r in replies)
    assert sent_to(smtp_capture, REVIEWER) == []


def test_officer_cannot_correct_another_units_item(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    theirs = samples.labelled_subject("市发改委召开项目推进会", "市发改委", "王五", "赵六", "13800138000")
    deliver(dovecot, imap_account, good(theirs, sender=OTHER_OFFICER))
    office.run("poll", "--once")
    (original,) = office.json("items", "list")
    deliver(dovecot, imap_account, good(f"【更正#{original['id']}】" + GOOD_SUBJECT))
    office.run("poll", "--once")
    items = {i["id"]: i for i in office.json("items", "list")}
    assert items[original["id"]]["status"] == "pending"
    (other,) = [i for i in items.values() if i["id"] != original["id"]]
    assert other["status"] == "refused" and "更正" in (other["reason"] or "")


# ---------------------------------------------------------------- SQL metacharacters

SQL = ["'; DROP TABLE item; --", '" OR 1=1', "%_", "1' OR '1'='1", "\\'; DELETE FROM message; --"]


def test_sql_metacharacters_are_stored_verbatim(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    evil = "".join(SQL)
    # Positional subject: labelled fields end at ';', positional ones only at '|'.
    subject = samples.positional_subject(
        f"标题{evil}", "越秀区政府", f"张三{evil}", f"李四{evil}", "020-83123456"
    )
    body = f"正文{evil}\n第二段 {evil}\n"
    mid = f"<{uuid.uuid4().hex}{quote(evil, safe='')}@gz.example.org>"
    picture = f"图片{evil}.jpg"
    part = (
        f"Content-Type: image/jpeg\r\nContent-Disposition: attachment; filename*=utf-8''{quote(picture)}",
        b"\xff\xd8\xff\xe0" + b"x" * 64,
    )
    # One encoded word, never folded: a folding generator may add a space inside a field.
    deliver(dovecot, imap_account, handmade(OFFICER, b64_word(subject), body, [part], message_id=mid))
    office.run("poll", "--once")
    item = only_item(office)
    assert item["status"] == "pending", item
    assert item["title"] == f"标题{evil}"
    fields = item["fields"]
    assert isinstance(fields, dict)
    assert (fields["签发人"], fields["报送人"]) == (f"张三{evil}", f"李四{evil}")
    assert f"正文{evil}" in str(item["text"]) and f"第二段 {evil}" in str(item["text"])
    assert item["attachments"] == [picture]
    (msg,) = office.json("messages", "list")  # the message table is still there
    assert msg["message_id"] == mid.strip("<>")
