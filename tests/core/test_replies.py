"""The reply-command grammar: every command form, every trap, every error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.errors import CommandError
from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Decision,
    Forward,
    Help,
    Instruct,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
)
from mailbot.core.review.replies import COMMAND_TABLE, DEFAULT_VOCABULARY, Vocabulary, parse_commands

V = DEFAULT_VOCABULARY

SINGLE = [
    # adopt
    ("采用", Adopt()),
    ("同意采用", Adopt()),
    ("采用 穗府信息 标题", Adopt("穗府信息", "标题")),
    ("采用 穗府信息 短波", Adopt("穗府信息", "短波")),
    ("采用穗府信息标题", Adopt("穗府信息", "标题")),
    ("采用，穗府信息，短波", Adopt("穗府信息", "短波")),
    ("采用\u3000穗府信息\u3000标题", Adopt("穗府信息", "标题")),
    ("采用 短波", Adopt("穗府信息", "短波")),
    ("采用 标题 穗府信息", Adopt("穗府信息", "标题")),
    ("采用 穗府要情", Adopt("穗府要情")),
    ("采用 穗府信息", Adopt("穗府信息")),
    ("采用 穗府信息专报", Adopt("穗府信息专报")),  # longest name wins over 穗府信息
    ("采用 穗府调研报告 主办", Adopt("穗府调研报告", "主办")),
    ("同意采用 收文呈阅表", Adopt("收文呈阅表")),
    ("采用。", Adopt()),
    ("采用！谢谢", Adopt()),
    ("采用，谢谢", Adopt()),
    ("采用 穗府信息 标题 谢谢！", Adopt("穗府信息", "标题")),
    ("\u3000采用", Adopt()),
    ("  采用  ", Adopt()),
    ("【采用】", Adopt()),
    ("**采用 穗府要情**", Adopt("穗府要情")),
    ("採用", Adopt()),
    ("採用 穗府信息 標題", Adopt("穗府信息", "标题")),
    ("同意採用", Adopt()),
    # reject, negations first
    ("不采用", Reject()),
    ("不采用 内容与上期重复", Reject("内容与上期重复")),
    ("不采用：内容与上期重复", Reject("内容与上期重复")),
    ("不采用，数据需核实。", Reject("数据需核实。")),
    ("暂不采用", Reject()),
    ("不予采用", Reject()),
    ("未采用", Reject()),
    ("不同意采用", Reject()),
    ("不用", Reject()),
    ("退回 请补充数据来源", Reject("请补充数据来源")),
    ("不採用 內容與上期重複", Reject("內容與上期重複")),  # reason kept as written
    ("不采用！谢谢", Reject()),
    ("【不采用】重复", Reject("重复")),
    # instruct
    ("批示 市", Instruct("市")),
    ("批示 省", Instruct("省")),
    ("批示 国务院", Instruct("国务院")),
    ("批示：国办", Instruct("国务院")),
    ("批示 市领导", Instruct("市")),
    ("批示市", Instruct("市")),
    ("市领导批示", Instruct("市")),
    ("省领导批示：请各地学习借鉴", Instruct("省")),
    ("领导批示 省", Instruct("省")),
    ("批示 省级", Instruct("省")),
    # upper adopt / forward
    ("上级采用 省", UpperAdopt("省")),
    ("上级采用 国务院", UpperAdopt("国务院")),
    ("省采用", UpperAdopt("省")),
    ("国办采用", UpperAdopt("国务院")),
    ("国务院采用", UpperAdopt("国务院")),
    ("上报 省", Forward("省")),
    ("上报国办", Forward("国务院")),
    # the rest
    ("约稿", Commission()),
    ("扣分 5 迟报", Penalty(5, "迟报")),
    ("扣分 5", Penalty(5)),
    ("扣分5分", Penalty(5)),
    ("扣分：0.5分，漏报", Penalty(0.5, "漏报")),
    ("扣5分 迟报", Penalty(5, "迟报")),
    ("扣 2 分 约稿超时", Penalty(2, "约稿超时")),
    ("扣除1分", Penalty(1)),
    ("扣分 ５ 遲報", Penalty(5, "遲報")),
    ("扣三分 迟报", Penalty(3, "迟报")),
    ("扣分 十 漏报", Penalty(10, "漏报")),
    ("撤销", Undo()),
    ("撤消", Undo()),
    ("撤銷", Undo()),
    ("帮助", Help()),
    ("幫助", Help()),
    ("help", Help()),
    ("HELP", Help()),
    ("？", Help()),
    ("?", Help()),
]


@pytest.mark.parametrize(("body", "expected"), SINGLE, ids=[b for b, _ in SINGLE])
def test_single_command(body: str, expected: Decision) -> None:
    assert parse_commands(body, V) == [expected]


@pytest.mark.parametrize(
    "body", ["不采用", "暂不采用", "不予采用", "未采用", "不用", "不同意采用", "不採用", "暫不採用"]
)
def test_a_negated_adoption_never_adopts(body: str) -> None:
    for text in (body, body + " 穗府信息 标题", body + "。", "【" + body + "】"):
        decisions = parse_commands(text, V)
        assert not any(isinstance(d, Adopt) for d in decisions)
        assert isinstance(decisions[0], Reject)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("采用\n谢谢！", [Adopt()]),
        ("采用 穗府信息 标题\n批示 市\n", [Adopt("穗府信息", "标题"), Instruct("市")]),
        ("\n\n采用\n\n批示 省\n\n张三", [Adopt(), Instruct("省")]),
        ("采用\n这篇写得好，不采用别的\n不采用", [Adopt()]),  # prose ends the block
        ("您好！\n采用 穗府要情", [Adopt("穗府要情")]),  # a greeting before the commands is skipped
        ("张老师：\n采用", [Adopt()]),
        ("约稿\n扣分 1 迟报\n撤销", [Commission(), Penalty(1, "迟报"), Undo()]),
        ("采用\n发自我的iPhone", [Adopt()]),
    ],
)
def test_command_block(body: str, expected: list[Decision]) -> None:
    assert parse_commands(body, V) == expected


def test_commands_in_the_quote_never_count() -> None:
    body = (
        "不采用 重复\n\n-----原始邮件-----\n发件人: inbox@example.org\n发送时间: 2026-11-03\n"
        "采用 穗府信息 标题\n批示 市\n"
    )
    assert parse_commands(body, V) == [Reject("重复")]
    assert parse_commands("采用\n> 不采用\n> 批示 市", V) == [Adopt()]


@pytest.mark.parametrize(
    ("body", "seen"),
    [
        ("", ""),
        ("\n  \n", ""),
        ("谢谢", "谢谢"),
        ("我觉得可以采用", "我觉得可以采用"),
        ("同意", "同意"),
        ("> 采用", ""),  # only a quote: nothing was written
        ("-----Original Message-----\n采用", ""),
    ],
)
def test_no_command_is_an_error_naming_the_line(body: str, seen: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_commands(body, V)
    assert caught.value.line == seen
    assert "命令" in caught.value.detail


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("采用 穗府要请", ["穗府要请", "穗府信息", "穗府要情"]),  # unknown publication: seen and allowed
        ("采用 人民日报 标题", ["人民日报"]),
        ("采用 穗府要情 标题", ["穗府要情", "标题", "不分档次"]),
        ("采用 穗府信息 主办", ["穗府信息", "主办", "标题、短波"]),
        ("采用 主办", ["主办", "穗府调研报告"]),  # grade not in the default publication
        ("采用 头条", ["头条"]),
        ("批示", ["缺少级别", "市、省、国务院"]),
        ("批示 县", ["县", "市、省、国务院"]),
        ("批示 市委", ["市委"]),
        ("上级采用 市", ["市", "省、国务院"]),
        ("上报", ["缺少级别"]),
        ("扣分", ["分值"]),
        ("扣分 迟报", ["分值"]),
        ("扣分 0", ["分值"]),
        ("采用\n不采用 重复", ["采用", "不采用"]),
        ("采用，谢谢，不采用", ["采用", "不采用"]),  # found by the property below: never an adoption
        ("采用 谢谢 暂不采用", ["采用", "不采用"]),
    ],
)
def test_bad_arguments_are_errors_in_chinese(body: str, words: list[str]) -> None:
    with pytest.raises(CommandError) as caught:
        parse_commands(body, V)
    for word in words:
        assert word in caught.value.detail


def test_a_bad_command_after_a_good_one_is_still_an_error() -> None:
    with pytest.raises(CommandError):
        parse_commands("批示 市\n采用 穗府要请", V)


def test_vocabulary_is_data() -> None:
    county = Vocabulary(
        publications={"今日海珠": ("综合", "简要"), "海珠专报": ()},
        default_publication="今日海珠",
        instruct_levels=("区", "市"),
        upper_levels=("市", "省"),
        aliases={"区领导": "区", "专报": "海珠专报"},
    )
    assert parse_commands("采用 简要", county) == [Adopt("今日海珠", "简要")]
    assert parse_commands("采用 专报", county) == [Adopt("海珠专报")]
    assert parse_commands("区领导批示", county) == [Instruct("区")]
    assert parse_commands("市采用", county) == [UpperAdopt("市")]
    with pytest.raises(CommandError):
        parse_commands("采用 穗府信息", county)
    with pytest.raises(CommandError):
        parse_commands("批示 国务院", county)


def test_command_table_lists_every_command() -> None:
    syntax = " ".join(row[0] for row in COMMAND_TABLE)
    for word in ("采用", "不采用", "批示", "上级采用", "上报", "约稿", "扣分", "撤销", "帮助"):
        assert word in syntax
    for _syntax, meaning, example in COMMAND_TABLE:
        assert meaning
        assert parse_commands(example, V)  # every example in the help parses


@given(st.text())
def test_arbitrary_text_raises_only_command_error(text: str) -> None:
    try:
        decisions = parse_commands(text, V)
    except CommandError:
        return
    assert decisions


COMMAND_WORDS = [
    "采用",
    "不采用",
    "暂不",
    "批示",
    "上报",
    "扣分",
    "扣",
    "省采用",
    "撤销",
    "帮助",
    "穗府信息",
    "标题",
    "市",
    "。",
    "！",
    "，",
    "　",
    " ",
    "5",
    "分",
    "\n",
    ">",
    "【",
    "谢谢",
]


@given(st.lists(st.sampled_from(COMMAND_WORDS), max_size=12))
def test_command_like_text_raises_only_command_error(words: list[str]) -> None:
    text = "".join(words)
    try:
        decisions = parse_commands(text, V)
    except CommandError:
        return
    first = next(line for line in text.splitlines() if line.strip())
    if "不采用" in first or "暂不" in first:
        assert not isinstance(decisions[0], Adopt)
