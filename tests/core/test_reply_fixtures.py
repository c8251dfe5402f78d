"""Real replies from the clients reviewers use, read end to end: raw mail → text → commands.

Each fixture is the raw message a client sends (its charset, transfer encoding,
quote layout and headers), replying to our review request, which is quoted
below the command and itself names 采用, 不采用, 批示 and 扣分.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.core.mail.mime import html_to_text, parse_mail
from mailbot.core.mail.quotes import strip_quotes
from mailbot.core.mail.textnorm import fold
from mailbot.core.review.decisions import Adopt, Decision, Forward, Instruct, Penalty, Reject, UpperAdopt
from mailbot.core.review.replies import DEFAULT_VOCABULARY, parse_commands

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "replies"
REVIEW_REQUEST = "review.2026-0012.x@mailbot.example.org"

EXPECTED: dict[str, list[Decision]] = {
    # Outlook 2016 zh-CN: gb2312 label (body has a GBK-only dash), base64, ____ rule + 发件人: block
    "outlook_zh": [Adopt("穗府信息", "标题")],
    # Outlook en-US: utf-8 quoted-printable, -----Original Message----- / From: Sent:
    "outlook_en": [Reject("请补充2025年同期对比数据")],
    # Foxmail 7.2: gb18030 base64, ------------------ 原始邮件 ------------------, 发件人：
    "foxmail": [Reject("内容与上期重复")],
    # QQ Mail: utf-8 base64, separator with U+00A0
    "qqmail": [Instruct("市")],
    # 163 webmail: GBK base64, 在 2026-11-03 10:00:00，"…" <…> 写道： and the quote without >
    "mail163": [Adopt("穗府信息", "短波")],
    # Coremail XT: utf-8 base64, ----- 原始邮件 ----- and 发件人:"…"
    "coremail": [Reject("与《穗府要情》第15期内容重复")],
    # Apple Mail: utf-8 quoted-printable, 在 2026年11月3日，上午10:00，… 写道： then > quote
    "apple_mail": [UpperAdopt("省")],
    # iOS Mail: 发自我的iPhone ends the block; attribution inside the > quote
    "ios_mail": [Adopt()],
    # Gmail: base64, On … wrote: wrapped over two lines
    "gmail": [Forward("省")],
    # Thunderbird zh-CN: format=flowed, 在 2026/11/3 10:00, … 写道:
    "thunderbird": [Penalty(2, "迟报")],
    # NeoMutt: > quoting only
    "plain_gt": [Reject("请压缩到800字以内再报")],
    # Outlook on the web: text/html only, GBK quoted-printable, <hr> + divRplyFwdMsg
    "html_only": [Adopt("穗府要情")],
    # Claws Mail, bottom-posted: the command is below the > quote
    "bottom_post": [Adopt("穗府信息", "短波")],
    # Outlook zh-TW: Big5 quoted-printable, 採用 … 標題, 寄件者/寄件日期/收件者/主旨
    "traditional": [Adopt("穗府信息", "标题")],
}


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items(), ids=list(EXPECTED))
def test_reply_parses_to_the_commands_written_on_top(name: str, expected: list[Decision]) -> None:
    mail = parse_mail((FIXTURES / f"{name}.eml").read_bytes())
    assert parse_commands(mail.text, DEFAULT_VOCABULARY) == expected


@pytest.mark.parametrize("name", list(EXPECTED))
def test_reply_threads_to_the_review_request(name: str) -> None:
    mail = parse_mail((FIXTURES / f"{name}.eml").read_bytes())
    assert mail.from_addr == "editor@example.org"
    assert mail.in_reply_to == REVIEW_REQUEST
    assert REVIEW_REQUEST in mail.references
    assert "2026-0012" in mail.subject
    # the quoted request survived decoding: the parse above really had a quote to ignore
    assert "不采用" in fold(mail.text)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_nothing_of_the_quoted_request_is_read(name: str) -> None:
    mail = parse_mail((FIXTURES / f"{name}.eml").read_bytes())
    written = fold(strip_quotes(mail.text))
    assert written  # the reviewer's own words are kept
    for quoted_line in ("待审#2026-0012", "例:", "回复命令表", "inbox@example.org"):
        assert quoted_line not in written


# The clients that send an HTML part (Outlook, Foxmail, QQ, 163, Coremail, Gmail, OWA …);
# NeoMutt, Thunderbird and the like send text/plain only.
WITH_HTML = [n for n in EXPECTED if parse_mail((FIXTURES / f"{n}.eml").read_bytes()).html]


def test_most_client_fixtures_carry_an_html_part() -> None:
    assert len(WITH_HTML) >= 8


@pytest.mark.parametrize("name", WITH_HTML)
def test_the_html_alternative_reads_the_same(name: str) -> None:
    mail = parse_mail((FIXTURES / f"{name}.eml").read_bytes())
    assert parse_commands(html_to_text(mail.html), DEFAULT_VOCABULARY) == EXPECTED[name]
