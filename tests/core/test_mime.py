"""parse_mail on the real-world corpus, on hand-made hard cases, and on corrupted input."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailbot.core.mail.charsets import decode_bytes
from mailbot.core.mail.mime import ParsedMail, html_to_text, parse_mail
from tests import corpus_report

CORPUS = corpus_report.CORPUS
CORPUS_FILES = sorted(CORPUS.glob("*.eml")) if CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(not CORPUS_FILES, reason=corpus_report.MISSING)
SURROGATE = re.compile("[\ud800-\udfff]")


def corpus(name: str) -> ParsedMail:
    return parse_mail((CORPUS / name).read_bytes())


def all_strings(mail: ParsedMail) -> list[str]:
    strings = [mail.message_id, mail.from_addr, mail.from_name, mail.subject, mail.in_reply_to]
    strings += [mail.text, mail.html, mail.content_type, *mail.to, *mail.references, *mail.defects]
    strings += [v for values in mail.headers.values() for v in values] + list(mail.headers)
    strings += [s for a in mail.attachments for s in (a.filename, a.safe_name, a.content_type)]
    return strings


def assert_storable(mail: ParsedMail) -> None:
    """Every string can go into SQLite/PostgreSQL: str, no surrogates, no NUL."""
    for s in all_strings(mail):
        assert isinstance(s, str)
        assert not SURROGATE.search(s), s[:80]
        assert "\x00" not in s
    one_line = [mail.subject, mail.from_name, mail.from_addr, mail.message_id, *mail.to, *mail.references]
    one_line += [v for values in mail.headers.values() for v in values] + [
        a.filename for a in mail.attachments
    ]
    for s in one_line:
        assert "\n" not in s and "\r" not in s, s[:80]  # they may go into headers of mail we send
    for att in mail.attachments:
        assert att.safe_name and "/" not in att.safe_name and "\\" not in att.safe_name
        assert isinstance(att.data, bytes)


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_mail_parses_into_storable_strings(path: Path) -> None:
    mail = parse_mail(path.read_bytes())
    assert_storable(mail)
    assert not any(d.startswith("parser failed") for d in mail.defects)


# ---------------------------------------------------------------- known hard corpus cases


@needs_corpus
def test_gb2312_label_with_gbk_only_characters() -> None:
    mail = corpus("kopano-core__gb2312_18030.eml")
    assert mail.from_name == "梁祐晟"  # 祐 is not in GB2312
    assert mail.from_addr == "some.address@some.domain"
    assert mail.subject == "讀取: ??排??生?a"
    assert mail.header("to") == "'林慶美' <other.address@some.domain>"
    assert mail.to == ("other.address@some.domain",)


@needs_corpus
@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("demisto-parse-emails__chinese_big5_encoding.eml", "Hello from China", "圖形碼"),
        ("kopano-core__big5.eml", "養樂多線上訂購", "body"),
        ("demisto-parse-emails__chinese_gbk_encoding.eml", "Hello from China", "你好，中国"),
        (
            "demisto-parse-emails__chinese_gb2312_encoding.eml",
            "Greeting in Chinese",
            "你好，我是程序员，很高兴认识你",
        ),
        ("mailcore2__1021-chinese.eml", "哈哈", None),
        ("spamassassin__gb2312.2.eml", "RE: 装硬碟问题", None),
        ("demisto-parse-emails__utf_8_with_bom.eml", "Test UTF Email", "עברית"),
    ],
)
def test_cjk_charsets(name: str, subject: str, text: str | None) -> None:
    mail = corpus(name)
    assert mail.subject == subject
    if text is not None:
        assert text in mail.text


@needs_corpus
def test_x_gbk_label() -> None:
    mail = corpus("webklex-php-imap__gbk_charset.eml")
    assert mail.text.strip() == "Hi"
    assert not [d for d in mail.defects if "charset" in d]


@needs_corpus
def test_from_name_in_gbk_and_big5() -> None:
    assert corpus("spamassassin__gb2312.2.eml").from_name == "Jason Lee (李展锋)"
    assert corpus("mailcore2__1021-chinese.eml").from_name == "向左"
    assert corpus("mailcore2__2765-korean.eml").from_addr == "ss.lee@gph.me"


@needs_corpus
@pytest.mark.parametrize(
    ("name", "filename"),
    [
        ("zammad__mail015.eml", "绩效管理,究竟谁错了.xls"),  # raw GB2312 bytes in quotes (Outlook Express 6)
        ("enmime__mime-bad-8bit-filename.eml", "管理.doc"),  # raw UTF-8, unquoted
        ("rt__rfc2231-attachment-filename-continuations.eml", "新しいテキスト ドキュメント.txt"),
        ("redmine__thunderbird_with_attachment_ja.eml", "テスト.txt"),  # RFC 2231
        ("mlarchive-osst-users__6def7dbbd17b.eml", "2023年第1季度个人劳动补贴通知.docx"),
        ("otrs__PostMaster-Test12.eml", "國科會50科學之旅活動計畫徵求書(r_final).doc"),  # Big5 encoded word
        ("james-project__attachments-filename-in-content-type.eml", "1.txt"),  # name= on Content-Type only
    ],
)
def test_attachment_names(name: str, filename: str) -> None:
    names = [a.filename for a in corpus(name).attachments]
    assert filename in names
    att = next(a for a in corpus(name).attachments if a.filename == filename)
    assert att.safe_name == filename


@needs_corpus
def test_mail_that_makes_policy_default_raise() -> None:
    mail = corpus("otrs__PostMaster-Test12.eml")
    assert mail.subject == "test äöüß"
    assert mail.from_name == "Сапожников Борис"
    names = [a.filename for a in mail.attachments]
    assert "Обяснительная.jpg" in names and "2차 보도자료.hwp" in names
    # The invalid iso-2022-jp RFC 2231 name keeps what decodes and marks the rest.
    assert any(n.startswith("報告書\ufffd") for n in names)
    assert any("iso-2022-jp" in d for d in mail.defects)


@needs_corpus
@pytest.mark.parametrize("name", ["roundcube__tnef1.eml", "mailcore2__1808-winmail-dat.eml"])
def test_tnef_is_kept_as_an_attachment(name: str) -> None:
    tnef = [a for a in corpus(name).attachments if a.content_type == "application/ms-tnef"]
    assert len(tnef) == 1 and tnef[0].safe_name == "winmail.dat"
    assert tnef[0].data.startswith(b"\x78\x9f\x3e\x22")  # TNEF signature: the payload is decoded


@needs_corpus
@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("imap_tools__base.eml", "Здравствуйте!\n\n"),
        ("mailcore2__2195-greek.eml", "Αγαπητέ συνδρομητή,\n\n"),
        ("otrs__test-email-4-html.eml", "This is a html email!\n\nJust a little bit HTML coding."),
    ],
)
def test_html_only_corpus_mail_gets_a_text_body(name: str, start: str) -> None:
    mail = corpus(name)
    assert mail.html and mail.text.startswith(start)
    assert "<" not in mail.text[:200]


@needs_corpus
def test_forwarded_message_is_an_attachment() -> None:
    mail = corpus("zammad__mail046.eml")
    assert mail.subject == "转发：整体提升企业服务水平"
    fwd = [a for a in mail.attachments if a.content_type == "message/rfc822"]
    assert len(fwd) == 1 and fwd[0].safe_name == "forwarded.eml"
    assert parse_mail(fwd[0].data).subject  # the forwarded mail is itself parseable


# ---------------------------------------------------------------- hand-made messages


def mail_bytes(headers: str, body: bytes = b"body\n") -> bytes:
    return headers.strip().replace("\n", "\r\n").encode() + b"\r\n\r\n" + body


def b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode()


def test_mislabelled_gb2312_keeps_gbk_only_characters() -> None:
    body = "朱镕基同志–讲话".encode("gbk")  # 镕 and the en dash (A8 43) are GBK, not GB2312
    raw = mail_bytes(
        f"""
From: =?gb2312?B?{b64("镕", "gbk")}?= <Officer@Example.GOV.cn>
Subject: =?gb2312?B?{b64("关于镕–的报告", "gbk")}?=
Content-Type: text/plain; charset=gb2312
Content-Transfer-Encoding: base64
""",
        base64.encodebytes(body),
    )
    mail = parse_mail(raw)
    assert mail.subject == "关于镕–的报告"
    assert mail.from_name == "镕"
    assert mail.from_addr == "officer@example.gov.cn"
    assert mail.text == "朱镕基同志–讲话"
    assert mail.defects == ()


def test_encoded_word_split_in_the_middle_of_a_character() -> None:
    data = "中文标题".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    raw = mail_bytes(f"Subject: =?UTF-8?B?{first}?=\n =?UTF-8?B?{second}?=\nFrom: a@b.cn")
    assert parse_mail(raw).subject == "中文标题"


def test_adjacent_encoded_words_are_joined_without_spaces() -> None:
    raw = mail_bytes(
        f"Subject: =?GBK?B?{b64('报送', 'gbk')}?= =?utf-8?B?{b64('信息', 'utf-8')}?=\tend\nFrom: a@b.cn"
    )
    assert parse_mail(raw).subject == "报送信息\tend".replace("\t", " ")


def test_raw_utf8_mixed_with_q_encoded_gbk() -> None:
    q = "".join(f"={b:02X}" for b in "已读".encode("gbk"))
    raw = f"Subject: 回执：=?GBK?Q?{q}?= ok\r\nFrom: a@b.cn\r\n\r\nx".encode()
    assert parse_mail(raw).subject == "回执：已读 ok"


@pytest.mark.parametrize("charset", ["gbk", "utf-8"])
def test_raw_8bit_header_bytes(charset: str) -> None:
    raw = (
        "Subject: 【紧急】关于防汛工作的报告\r\nFrom: 张三 <zs@x.cn>\r\n"
        f"Content-Type: text/plain; charset={charset}\r\n\r\n正文"
    ).encode(charset)
    mail = parse_mail(raw)
    assert mail.subject == "【紧急】关于防汛工作的报告"
    assert mail.from_name == "张三"
    assert mail.text == "正文"


def test_text_without_charset_is_detected_not_latin1() -> None:
    raw = mail_bytes(
        "From: a@b.cn\nContent-Type: text/plain", "各区政府：现将有关情况报告如下。".encode("gbk")
    )
    assert parse_mail(raw).text == "各区政府：现将有关情况报告如下。"


def test_html_only_chinese_body() -> None:
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head><body>"
        "<p>各位领导：</p><div>现报送如下&nbsp;信息。</div><br>签发人：张三"
        "<table><tr><td>单位</td><td>得分</td></tr><tr><td>越秀区</td><td>3</td></tr></table>"
        "<p>1. 第一条</p></body></html>"
    )
    raw = mail_bytes(
        "From: a@b.cn\nContent-Type: text/html; charset=gb2312\nContent-Transfer-Encoding: base64",
        base64.encodebytes(html.encode("gbk")),
    )
    mail = parse_mail(raw)
    assert mail.html == html
    assert (
        mail.text == "各位领导：\n\n现报送如下 信息。\n\n签发人：张三\n\n单位\t得分\n越秀区\t3\n\n1. 第一条"
    )


def test_html_charset_from_meta_tag() -> None:
    html = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head><body>政务信息</body>'
    raw = mail_bytes("From: a@b.cn\nContent-Type: text/html", html.encode("gbk"))
    assert parse_mail(raw).text == "政务信息"


def test_html_to_text_keeps_lines() -> None:
    assert html_to_text("a<br>b<p>c</p><ul><li>d</li><li>e</li></ul>") == "a\nb\n\nc\n\nd\ne"


MULTIPART = """
From: "=?utf-8?B?{name}?=" <Li.Si@Example.cn>
To: A <a@x.cn>, b@y.cn, "C, D" <cd@z.cn>
Subject: test
Date: Tue, 3 Nov 2026 09:30:00 +0800
Message-ID: <abc@x.cn>
In-Reply-To: <parent@x.cn>
References: <r1@x.cn>,<r2@x.cn>
 <parent@x.cn>
Content-Type: multipart/mixed; boundary="BB"

--BB
Content-Type: multipart/related; boundary="RR"

--RR
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{body}
--RR
Content-Type: image/png; name="logo.png"
Content-ID: <logo@x>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--RR--
--BB
Content-Type: application/octet-stream; name="=?gb2312?B?{docname}?="
Content-Disposition: inline; filename="=?gb2312?B?{docname}?="
Content-Transfer-Encoding: base64

UEsDBA==
--BB
Content-Type: application/msword
Content-Disposition: attachment;
 filename*0*=gbk''%D6%D0%CE%C4;
 filename*1="-2.doc"
Content-Transfer-Encoding: base64

0M8R4KGxGuE=
--BB
Content-Type: application/pdf
Content-Disposition: attachment; filename="../../etc/CON.pdf"
Content-Transfer-Encoding: base64

JVBERi0xLjQK!!broken-base64*
--BB
Content-Type: message/rfc822

From: x@y.cn
Subject: inner
Message-ID: <inner@y.cn>

inner body
--BB--
"""


def multipart_mail() -> ParsedMail:
    raw = MULTIPART.format(
        name=b64("李四", "utf-8"),
        body=b64("正文第一行\n第二行", "utf-8"),
        docname=b64("报送信息.docx", "gbk"),
    )
    return parse_mail(raw.lstrip().replace("\n", "\r\n").encode())


def test_addresses_ids_and_date() -> None:
    mail = multipart_mail()
    assert (mail.from_name, mail.from_addr) == ("李四", "li.si@example.cn")
    assert mail.to == ("a@x.cn", "b@y.cn", "cd@z.cn")
    assert mail.message_id == "abc@x.cn"
    assert mail.in_reply_to == "parent@x.cn"
    assert mail.references == ("r1@x.cn", "r2@x.cn", "parent@x.cn")
    assert mail.date == datetime(2026, 11, 3, 1, 30, tzinfo=UTC)
    assert mail.date is not None and mail.date.utcoffset() == timedelta(hours=8)
    assert mail.content_type == "multipart/mixed"


def test_body_and_attachments_of_a_nested_multipart() -> None:
    mail = multipart_mail()
    assert mail.text == "正文第一行\n第二行"
    got = [(a.filename, a.safe_name, a.content_type, a.inline) for a in mail.attachments]
    assert got == [
        ("logo.png", "logo.png", "image/png", True),
        ("报送信息.docx", "报送信息.docx", "application/octet-stream", False),  # inline docx is still a file
        ("中文-2.doc", "中文-2.doc", "application/msword", False),
        ("../../etc/CON.pdf", "_CON.pdf", "application/pdf", False),
        ("", "forwarded.eml", "message/rfc822", False),
    ]
    assert mail.attachments[1].data == b"PK\x03\x04"
    assert mail.attachments[3].data.startswith(b"%PDF-1.4")  # broken base64 tolerated
    assert parse_mail(mail.attachments[4].data).message_id == "inner@y.cn"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "Date: Tue, 3 Nov 2026 09:30:00 +0800",
            datetime(2026, 11, 3, 9, 30, tzinfo=timezone(timedelta(hours=8))),
        ),
        ("Date: 2026年11月3日", None),
        ("Date: Tue, 99 Foo 2026 99:99:99", None),
        ("X-No-Date: 1", None),
    ],
)
def test_date(header: str, expected: datetime | None) -> None:
    assert parse_mail(mail_bytes(f"From: a@b.cn\n{header}")).date == expected


def test_headers_are_decoded_and_keyed_lower_case() -> None:
    raw = mail_bytes(
        f"From: a@b.cn\nX-Note: =?utf-8?B?{b64('备注', 'utf-8')}?=\nReceived: one\nReceived: two"
    )
    mail = parse_mail(raw)
    assert mail.headers["x-note"] == ("备注",)
    assert mail.headers["received"] == ("one", "two")
    assert mail.header("X-NOTE") == "备注" and mail.header("missing") == ""


def test_unknown_charsets_are_detected() -> None:
    raw = mail_bytes("From: a@b.cn\nContent-Type: text/plain; charset=x-unknown-foo", "报告".encode("gbk"))
    mail = parse_mail(raw)
    assert mail.text == "报告"
    assert any("x-unknown-foo" in d for d in mail.defects)


@pytest.mark.parametrize(
    ("data", "declared", "text"),
    [
        ("镕–".encode("gbk"), "gb2312", "镕–"),
        ("镕".encode("gbk"), "GB_2312-80", "镕"),
        ("镕".encode("gbk"), "x-gbk", "镕"),
        ("镕".encode("gbk"), "iso-gb2312", "镕"),
        ("镕".encode("gbk"), "euc-cn", "镕"),
        ("中文".encode("gbk"), None, "中文"),  # also valid UTF-8 (Hebrew + Greek): GBK must win
        ("中文".encode("gbk"), "", "中文"),
        ("你好".encode(), "gb2312", "你好"),  # UTF-8 mislabelled gb2312
        ("中文".encode(), "iso-8859-1", "中文"),  # UTF-8 mislabelled latin-1
        ("café".encode(), None, "café"),
        ("堃喆".encode("big5hkscs"), "big5", "堃喆"),  # HKSCS characters
        ("\ufeff中文".encode(), "utf-8", "中文"),
        ("Grüße".encode("latin-1"), "iso-8859-1", "Grüße"),
    ],
)
def test_decode_bytes(data: bytes, declared: str | None, text: str) -> None:
    assert decode_bytes(data, declared)[0] == text


def test_decode_bytes_marks_what_it_cannot_decode() -> None:
    text, note = decode_bytes("中文".encode() + b"\xff\xfe" + "报告".encode(), "utf-8")
    assert text == "中文\ufffd\ufffd报告" and note is not None


# ---------------------------------------------------------------- fuzzing

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4000))
def test_random_bytes_never_raise(raw: bytes) -> None:
    assert_storable(parse_mail(raw))


HEADER_TOKENS = [
    *(c.encode() for c in "=?BQbq_:;\"'<>@,\r\n\t -"),
    *(
        b"=?gb2312?B?",
        b"=?utf-8?Q?",
        b"?=",
        b"=E4=B8",
        b"1rDOxA",
        b"\x80",
        b"\xff",
        b"\xd6\xd0",
        "中".encode(),
    ),
]


@FUZZ
@given(st.lists(st.sampled_from(HEADER_TOKENS), max_size=80).map(b"".join))
def test_random_header_soup_never_raises(soup: bytes) -> None:
    raw = (
        b"Subject: "
        + soup
        + b"\r\nFrom: "
        + soup
        + b"\r\nContent-Type: text/plain; name="
        + soup
        + b"\r\n\r\nx"
    )
    assert_storable(parse_mail(raw))


@needs_corpus
@FUZZ
@given(st.data())
def test_corrupted_corpus_mail_never_raises(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(CORPUS_FILES), label="file")
    raw = bytearray(path.read_bytes()[:200_000])
    how = data.draw(st.sampled_from(["truncate", "flip", "drop-boundary"]), label="how")
    if how == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif how == "flip":
        for pos in data.draw(st.lists(st.integers(0, max(0, len(raw) - 1)), max_size=20)):
            if raw:
                raw[pos] ^= data.draw(st.integers(1, 255))
    else:
        boundaries = re.findall(rb"\n(--[^\r\n]+)", bytes(raw))
        if boundaries:
            victim = data.draw(st.sampled_from(boundaries))
            raw = bytearray(bytes(raw).replace(victim, b"", 1))
    assert_storable(parse_mail(bytes(raw)))


def test_deep_nesting_and_garbage() -> None:
    nested = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(500)
    )
    for raw in (b"", b"\x00" * 100, b"\r\r\r", nested, b"From: \xff\xfe\r\n\r\n\xff", b"\xef\xbb\xbf"):
        assert_storable(parse_mail(raw))
