"""The 落款 of a body fills the fields a subject leaves out (SPEC §2.1)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.submission.signature import fields_from_body
from mailbot.core.submission.subject import Fields, parse_subject

TODAY = date(2026, 11, 10)
D3 = date(2026, 11, 3)

ITEM = "11月2日，越秀区召开防汛工作会议，部署汛期安全隐患排查工作。\n会议要求各街道落实责任。\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            ITEM + "\n签发人：张伟\n报送人：李娜 电话：13800138000\n",
            Fields(signer="张伟", reporter="李娜", phone="13800138000"),
        ),
        (
            ITEM
            + "报送单位：越秀区政府；签发人：张伟；报送人：李娜；联系电话：020-83123456；报送日期：2026.11.3",
            Fields(unit="越秀区政府", signer="张伟", reporter="李娜", phone="020-83123456", date=D3),
        ),
        (
            ITEM + "（越秀区政府办公室 供稿）\n签发：张伟　撰稿：李娜　手机：138 0013 8000\n",
            Fields(unit="越秀区政府办公室", signer="张伟", reporter="李娜", phone="138 0013 8000"),
        ),
        (
            ITEM + "單位：越秀區政府\n簽發人：張偉\n報送人：李娜\n聯繫電話：13800138000\n",
            Fields(unit="越秀區政府", signer="張偉", reporter="李娜", phone="13800138000"),
        ),
        (
            # 联系人 with the phone in the same value.
            ITEM + "签发人：陈明\n联系人：刘洋，13912345678\n",
            Fields(signer="陈明", reporter="刘洋", phone="13912345678"),
        ),
        (
            # The bare closing: unit, then the date, on their own lines.
            ITEM + "\n越秀区人民政府办公室\n2026年11月3日\n",
            Fields(unit="越秀区人民政府办公室", date=D3),
        ),
        (
            ITEM + "\n签发人：黄海　报送人：何丽\n广州海关\n二〇二六年十一月三日",
            Fields(unit="广州海关", signer="黄海", reporter="何丽", date=D3),
        ),
        (
            # The last occurrence wins: the 落款 is at the end, a contact in the text is not.
            "联系人：王五，电话：020-11112222。\n" + ITEM + "报送人：李娜\n电话：13800138000",
            Fields(reporter="李娜", phone="13800138000"),
        ),
        (
            # A bare 时间： is the time of the event, not of the report.
            "时间：2026年10月1日\n地点：越秀区政府礼堂\n" + ITEM + "签发人：张伟",
            Fields(signer="张伟"),
        ),
        (
            # Quoted text and everything after a reply separator is not the officer's.
            ITEM + "签发人：张伟\n> 签发人：老王\n> 报送人：老李\n-----原始邮件-----\n报送人：不应读到\n",
            Fields(signer="张伟"),
        ),
        (
            # A forward: the officer wrote nothing of use, the 落款 is in the forwarded mail.
            "请审阅。\n\n-----原始邮件-----\n发件人: 李娜 <lina@yuexiu.gov.cn>\n"
            + ITEM
            + "签发人：张伟\n报送人：李娜\n电话：13800138000",
            Fields(signer="张伟", reporter="李娜", phone="13800138000"),
        ),
        (
            # Outlook's quoted header block ends the officer's text.
            ITEM + "签发人：张伟\n\n发件人: 王五\n主题: Re: 另一条信息\n签发人：老王\n",
            Fields(signer="张伟"),
        ),
        (
            # A sentence above the date is not a unit.
            ITEM + "特此报告，请审阅。\n2026年11月3日",
            Fields(date=D3),
        ),
        (
            # Ordinary prose mentioning units is not a label.
            "各单位：请于本周内完成排查。经区长签发：同意。\n",
            Fields(),
        ),
        ("", Fields()),
    ],
)
def test_fields_from_body(body: str, expected: Fields) -> None:
    assert fields_from_body(body, TODAY) == expected


def test_body_fills_what_the_subject_lacks() -> None:
    info = parse_subject("【动态】越秀区召开防汛工作会议｜越秀区政府", TODAY)
    assert info.fields.missing() == ["签发人", "报送人", "电话"]
    body = ITEM + "\n签发人：张伟\n报送人：李娜 电话：13800138000\n越秀区人民政府办公室\n2026年11月3日\n"
    merged = info.fields.merged_with(fields_from_body(body, TODAY))
    assert merged == Fields(
        title="越秀区召开防汛工作会议",
        unit="越秀区政府",  # the subject's unit is kept
        signer="张伟",
        reporter="李娜",
        phone="13800138000",
        date=D3,
    )
    assert merged.missing() == []


def test_subject_fields_win_over_the_body() -> None:
    info = parse_subject(
        "标题：市发改委召开推进会；单位：市发改委；签发人：陈明；报送人：刘洋；电话：020-83123456", TODAY
    )
    body = "签发人：别人\n报送人：别人\n电话：13800000000\n"
    assert info.fields.merged_with(fields_from_body(body, TODAY)) == info.fields


@given(st.text())
def test_fields_from_body_never_raises(text: str) -> None:
    fields = fields_from_body(text, TODAY)
    for value in (fields.title, fields.unit, fields.signer, fields.reporter, fields.phone):
        assert value is None or value.strip() != ""


@given(st.text(alphabet="签发人报送单位电话日期：:;；> \n（）供稿2026年11月3日0123456789越秀区政府"))
def test_fields_from_body_never_raises_on_signature_like_text(text: str) -> None:
    fields_from_body(text, TODAY)
