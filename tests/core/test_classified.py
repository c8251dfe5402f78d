"""Classified marks are caught; ordinary prose about secrets is not (SPEC §2.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.submission.classified import find_classified_marks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A level with a star and a term, anywhere.
        ("机密★1年\n关于我市重大项目推进情况的报告", ["机密★1年"]),
        ("附件为秘密★10年文件，请按规定处理", ["秘密★10年"]),
        ("绝密★长期", ["绝密★长期"]),
        ("机密 ★ 5年", ["机密★5年"]),
        ("秘密★", ["秘密★"]),
        ("機密★一年", ["机密★一年"]),
        ("★长期\n内容", ["★长期"]),
        # In brackets.
        ("【机密】关于某项目的情况", ["机密"]),
        ("[秘密]关于某项目的情况", ["秘密"]),
        ("［绝密］关于某项目的情况", ["绝密"]),
        ("（内部资料）市经济运行分析", ["内部资料"]),
        ("(内部资料，注意保存)", ["内部资料"]),
        ("〔涉密〕会议纪要", ["涉密"]),
        ("正文中间有【秘密★3年】标志", ["秘密★3年"]),
        # At the start of the text or alone on a line, with or without a keeping note.
        ("绝密\n关于某事件的报告", ["绝密"]),
        ("关于某事件的报告\n  机密  \n正文", ["机密"]),
        ("秘密 注意保存\n正文", ["秘密"]),
        ("内部资料 不得外传\n穗府信息", ["内部资料"]),
        ("机密 关于某事件处置情况的报告", ["机密"]),
        # A keeping note anywhere.
        ("本刊为内部资料，注意保存。", ["内部资料"]),
        # Traditional.
        ("絕密\n內容", ["绝密"]),
        ("【機密】關於某事件的報告", ["机密"]),
        ("內部資料　注意保存", ["内部资料"]),
        # Several marks, each once, in order.
        ("机密★1年\n【内部资料】\n机密★1年", ["机密★1年", "内部资料"]),
        # Ordinary prose: no marks.
        ("市市场监管局加大商业秘密保护力度", []),
        ("本信息不涉密，可以公开发布。", []),
        ("经审核，该信息为非涉密信息。", []),
        ("泄露国家秘密的行为将依法查处。", []),
        ("全体干部要严格保守秘密，筑牢保密防线。", []),
        ("涉密人员培训会召开", []),
        ("市国家保密局举办涉密人员保密知识培训", []),
        ("秘密花园主题展在越秀公园开幕", []),
        ("《秘密》话剧在广州大剧院上演", []),
        ("本店★★★★★好评，★10年老店", []),
        ("", []),
    ],
)
def test_find_classified_marks_in_body(text: str, expected: list[str]) -> None:
    assert find_classified_marks(text) == expected


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("关于某重大项目机密情况的报告｜市发改委", ["机密"]),
        ("市统计局内部资料：前三季度经济数据", ["内部资料"]),
        ("转发绝密文件的说明", ["绝密"]),
        ("【秘密】关于某事件的报告", ["秘密"]),
        ("機密 關於某事件的報告", ["机密"]),
        # In a subject 涉密 and 秘密 need a marking shape; negations never count.
        ("涉密人员培训会召开｜市国家安全局", []),
        ("市市场监管局开展商业秘密保护专项行动", []),
        ("关于非机密信息公开的工作情况", []),
        ("本信息不涉及机密内容", []),
        ("越秀区召开防汛工作会议", []),
    ],
)
def test_find_classified_marks_in_subject(subject: str, expected: list[str]) -> None:
    assert find_classified_marks(subject, subject=True) == expected


def test_subject_rule_is_stricter_than_body_rule() -> None:
    # 机密 inside a sentence counts in a subject but not in a body.
    text = "关于某重大项目机密情况的报告"
    assert find_classified_marks(text, subject=True) == ["机密"]
    assert find_classified_marks(text) == []


@given(st.text(), st.booleans())
def test_find_classified_marks_never_raises(text: str, subject: bool) -> None:
    marks = find_classified_marks(text, subject=subject)
    assert len(marks) == len(set(marks))


@given(st.text(alphabet="绝机秘密内部资料涉★☆长期年0123456789【】[]()（） \n注意保存不非"), st.booleans())
def test_find_classified_marks_never_raises_on_mark_like_text(text: str, subject: bool) -> None:
    find_classified_marks(text, subject=subject)
