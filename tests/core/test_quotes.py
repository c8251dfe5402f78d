"""strip_quotes keeps what the reviewer wrote and never the quoted review request."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.mail.quotes import strip_quotes

# The body of our own review request, as it comes back quoted: it names every command.
ORIGINAL = """[待审#2026-0012] 关于推进老旧小区改造的情况报告（越秀区政府）

请直接回复本邮件，第一行写命令：
采用 穗府信息 标题
不采用 内容与上期重复
批示 市"""


def quoted(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


LAYOUTS = [
    ("gt_only", f"采用 穗府信息 标题\n\n{quoted(ORIGINAL)}", "采用 穗府信息 标题"),
    (
        "outlook_zh_rule",
        "不采用 内容与上期重复\n\n________________________________\n发件人: 政务信息报送 <inbox@example.org>\n"
        f"发送时间: 2026年11月3日 10:00\n收件人: editor@example.org\n主题: [待审#2026-0012] 关于…\n\n{ORIGINAL}",
        "不采用 内容与上期重复",
    ),
    (
        "outlook_zh_no_rule_fullwidth",
        "批示 市\n\n发件人：政务信息报送 [mailto:inbox@example.org]\n发送时间：2026年11月3日 10:00\n"
        f"收件人：editor@example.org\n主题：[待审#2026-0012]\n\n{ORIGINAL}",
        "批示 市",
    ),
    (
        "outlook_en",
        "采用\n\n-----Original Message-----\nFrom: mailbot <inbox@example.org>\nSent: Tuesday, November 3, 2026 10:00 AM\n"
        f"To: editor@example.org\nSubject: [待审#2026-0012]\n\n{ORIGINAL}",
        "采用",
    ),
    (
        "outlook_en_rule",
        "采用 短波\n________________________________\nFrom: mailbot <inbox@example.org>\n"
        f"Sent: Tuesday, November 3, 2026 10:00 AM\nTo: editor@example.org\nSubject: x\n\n{ORIGINAL}",
        "采用 短波",
    ),
    (
        "outlook_zh_mail_original",
        f"退回 请补充数据\n\n-----邮件原件-----\n发件人: inbox@example.org\n\n{ORIGINAL}",
        "退回 请补充数据",
    ),
    (
        "outlook_traditional",
        "採用\n\n寄件者: 政務信息報送 <inbox@example.org>\n傳送時間: 2026年11月3日 上午 10:00\n"
        f"收件者: editor@example.org\n主旨: [待審#2026-0012]\n\n{ORIGINAL}",
        "採用",
    ),
    (
        "outlook_traditional_date",
        f"採用\n\n寄件者: inbox@example.org\n寄件日期: 2026年11月3日\n主旨: x\n\n{ORIGINAL}",
        "採用",
    ),
    (
        "qqmail_nbsp",
        "采用 穗府信息 标题\n\n\n------------------\u00a0原始邮件\u00a0------------------\n"
        '发件人: "政务信息报送"<inbox@example.org>;\n发送时间: 2026年11月3日(星期二) 上午10:00\n'
        f'收件人: "editor"<editor@example.org>;\n主题: [待审#2026-0012]\n\n{ORIGINAL}',
        "采用 穗府信息 标题",
    ),
    (
        "foxmail_fullwidth",
        "不予采用\n\n------------------ 原始邮件 ------------------\n发件人：政务信息报送<inbox@example.org>\n"
        f"发送时间：2026年11月3日(星期二) 上午10:00\n收件人：editor\n主题：x\n{ORIGINAL}",
        "不予采用",
    ),
    (
        "foxmail_header_without_separator",
        f"上报 省\n\n\u00a0\n发件人：inbox@example.org\n发送时间：2026-11-03 10:00\n主题：x\n{ORIGINAL}",
        "上报 省",
    ),
    (
        "coremail",
        "不采用 内容与上期重复\n\n\n----- 原始邮件 -----\n"
        '发件人:"政务信息报送" <inbox@example.org>\n发送时间:2026-11-03 10:00:00 (星期二)\n'
        f"收件人:editor@example.org\n主题:[待审#2026-0012]\n\n{ORIGINAL}",
        "不采用 内容与上期重复",
    ),
    (
        "mail163",
        f'采用 短波\n在 2026-11-03 10:00:00，"政务信息报送" <inbox@example.org> 写道：\n{ORIGINAL}',
        "采用 短波",
    ),
    (
        "apple_mail",
        f"批示 市\n\n在 2026年11月3日，下午3:02，政务信息报送 <inbox@example.org> 写道：\n\n{quoted(ORIGINAL)}",
        "批示 市",
    ),
    (
        "apple_mail_macos_date_first",
        f"批示 市\n\n> 2026年11月3日 15:02，政务信息报送 <inbox@example.org> 写道：\n>\n{quoted(ORIGINAL)}",
        "批示 市",
    ),
    (
        "ios_signature",
        f"采用\n\n发自我的iPhone\n\n> 在 2026年11月3日，10:02，政务信息报送 <inbox@example.org> 写道：\n{quoted(ORIGINAL)}",
        "采用\n\n发自我的iPhone",
    ),
    (
        "thunderbird_zh",
        f"扣分 2 迟报\n\n在 2026/11/3 10:02, 政务信息报送 写道:\n{ORIGINAL}",
        "扣分 2 迟报",
    ),
    (
        "thunderbird_original_message",
        f"撤销\n\n-------- 原始信息 --------\n主题: x\n日期: 2026-11-03\n{ORIGINAL}",
        "撤销",
    ),
    (
        "thunderbird_original_message_en",
        f"撤销\n\n-------- Original Message --------\nSubject: x\n{ORIGINAL}",
        "撤销",
    ),
    (
        "gmail",
        f"上报 省\n\nOn Tue, Nov 3, 2026 at 10:02 AM 政务信息报送 <inbox@example.org> wrote:\n\n{ORIGINAL}",
        "上报 省",
    ),
    (
        "gmail_wrapped_attribution",
        f"上报 省\n\nOn Tue, Nov 3, 2026 at 10:02 AM 政务信息报送 <\ninbox@example.org> wrote:\n\n{ORIGINAL}",
        "上报 省",
    ),
    (
        "gmail_zh",
        f"约稿\n\n政务信息报送 <inbox@example.org> 于2026年11月3日周二 10:02写道：\n\n{ORIGINAL}",
        "约稿",
    ),
    (
        "thunderbird_en_wrapped",
        f"约稿\n\nOn 11/3/26 10:02 AM, 政务信息报送 (越秀区政府信息科)\nwrote:\n{ORIGINAL}",
        "约稿",
    ),
    (
        "html2text_bold_headers",
        "采用\n\n* * *\n\n**发件人:** 政务信息报送 <inbox@example.org>\n**发送时间:** 2026年11月3日 10:00\n"
        f"**收件人:** editor\n\n{ORIGINAL}",
        "采用",
    ),
    ("no_quote_at_all", "采用 穗府要情\n\n张三\n市府办信息科", "采用 穗府要情\n\n张三\n市府办信息科"),
]


@pytest.mark.parametrize(
    ("body", "expected"), [(b, e) for _, b, e in LAYOUTS], ids=[n for n, _, _ in LAYOUTS]
)
def test_each_layout_keeps_only_the_reply(body: str, expected: str) -> None:
    assert strip_quotes(body) == expected


@pytest.mark.parametrize("body", [b for _, b, _ in LAYOUTS], ids=[n for n, _, _ in LAYOUTS])
def test_the_quoted_command_table_never_survives(body: str) -> None:
    assert "穗府信息 标题\n不采用" not in strip_quotes(body)
    assert "内容与上期重复\n批示" not in strip_quotes(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # bottom-posting: command below the quote
        (
            f"在 2026/11/3 10:02, 政务信息报送 写道:\n{quoted(ORIGINAL)}\n\n采用 穗府信息 短波\n\n-- \n张三",
            "采用 穗府信息 短波\n\n--\n张三",
        ),
        (f"{quoted(ORIGINAL)}\n采用", "采用"),
        (f"\n\n{quoted(ORIGINAL)}\n\n不采用 重复\n", "不采用 重复"),
        # interleaved: the first unquoted text after the quote, stopping at the next quote
        (f"{quoted(ORIGINAL)}\n批示 市\n> more quoted\n采用", "批示 市"),
        # a bottom post whose quote is all there is reads as empty, not as the quote
        (f"On Tue, Nov 3, 2026 at 10:02 AM x <a@b.org> wrote:\n{quoted(ORIGINAL)}\n\n", ""),
        # top-posted nothing above an Outlook block: the original is never read
        (f"\n-----Original Message-----\nFrom: a\nSent: b\n\n{ORIGINAL}\n", ""),
    ],
)
def test_bottom_posting(body: str, expected: str) -> None:
    assert strip_quotes(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "采用\nFrom: 张三 wrote this line himself",  # one From-like line is not a header block
        "采用\n在这里写道理由",  # 写道 without a date is prose
        "采用\n-- \n张三",  # a signature dash is not a separator
    ],
)
def test_prose_that_looks_like_a_separator_is_kept(body: str) -> None:
    assert strip_quotes(body) == body.replace("-- \n", "--\n")


def test_full_width_gt_counts_as_quote() -> None:
    assert strip_quotes("采用\n＞ 不采用") == "采用"


@given(st.text())
def test_never_raises_and_returns_part_of_the_input(text: str) -> None:
    result = strip_quotes(text)
    assert all(line.strip() in text for line in result.splitlines())


@given(
    st.lists(
        st.sampled_from(
            [
                "> 采用",
                "采用",
                "",
                "On 1 x wrote:",
                "在 2026 写道：",
                "发件人: a",
                "主题: b",
                "-----Original Message-----",
                "abc",
            ]
        ),
        max_size=30,
    )
)
def test_never_raises_on_mixed_quote_lines(lines: list[str]) -> None:
    result = strip_quotes("\n".join(lines))
    assert "> 采用" not in result
