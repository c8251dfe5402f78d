"""Dates and phone numbers in the shapes officers write them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailbot.core.submission.cndate import find_date, find_phone, fold_aligned, is_date, is_phone, parse_date

TODAY = date(2026, 11, 10)
D3 = date(2026, 11, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03", D3),
        ("2026/11/3", D3),
        ("2026.11.3", D3),
        ("2026.11.3.", D3),
        (" 2026-11-3 ", D3),
        ("2026 - 11 - 03", D3),
        ("２０２６－１１－０３", D3),
        ("2026年11月3日", D3),
        ("2026 年 11 月 3 日", D3),
        ("２０２６年１１月３日", D3),
        ("2026年11月3号", D3),
        ("2026年11月3號", D3),
        ("2026年11月3日（星期二）", D3),
        ("2026年11月3日 周二", D3),
        ("11月3日", D3),
        ("11月3號", D3),
        ("二〇二六年十一月三日", D3),
        ("二○二六年十一月三日", D3),
        ("二零二六年十一月三日", D3),
        ("二O二六年十一月三日", D3),
        ("二〇二六年十一月三号", D3),
        ("二〇二六年十一月三號", D3),
        ("二○○五年十二月二十日", date(2005, 12, 20)),
        ("二〇二六年元月三十一日", date(2026, 1, 31)),
        ("二〇二六年三月二十九日", date(2026, 3, 29)),
        ("二〇二六年十月十日", date(2026, 10, 10)),
        ("十月廿一日", date(2026, 10, 21)),
        ("2024年2月29日", date(2024, 2, 29)),
        # Invalid calendar dates and things that are not dates.
        ("2026-02-30", None),
        ("2026年13月1日", None),
        ("2026年2月29日", None),
        ("二〇二六年十三月一日", None),
        ("2026-11.3", None),
        ("2026年11月", None),
        ("11/3", None),
        ("2026年11月3日召开会议", None),
        ("会议于2026年11月3日召开", None),
        ("13800138000", None),
        ("", None),
        ("日期", None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text, TODAY) == expected
    assert is_date(text, TODAY) is (expected is not None)


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        ("11月3日", date(2026, 11, 10), date(2026, 11, 3)),
        ("12月30日", date(2026, 11, 10), date(2026, 12, 30)),  # next month is fine
        ("12月30日", date(2027, 1, 5), date(2026, 12, 30)),  # December item reported in January
        ("3月1日", date(2026, 1, 5), date(2026, 3, 1)),  # 55 days ahead: still this year
        ("3月15日", date(2026, 1, 5), date(2025, 3, 15)),  # 69 days ahead: last year
    ],
)
def test_month_day_takes_year_from_today(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("越秀区人民政府办公室\n2026年11月3日", D3),
        ("报送日期：2026.11.3，请查收", D3),
        ("广州市人民政府办公厅\n二○○五年十二月二十日\n", date(2005, 12, 20)),
        ("截至2026-02-30的数据，更新于2026-03-01", date(2026, 3, 1)),
        ("电话：020-83123456", None),
        ("版本1.2.3", None),
        ("", None),
    ],
)
def test_find_date(text: str, expected: date | None) -> None:
    assert find_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "１３８００１３８０００",
        "020-83123456",
        "020 83123456",
        "02083123456",
        "(020)83123456",
        "（020）83123456",
        "（020）8312 3456",
        "0757-86281234",
        "83123456",
        "8312 3456",
        "83123456-801",
        "83123456转801",
        "020-83123456转801",
        "400-820-8820",
        "020-83123456、13800138000",
        "020-83123456 / 13800138000",
    ],
)
def test_is_phone_accepts(phone: str) -> None:
    assert is_phone(phone)
    assert is_phone(f"  {phone} ")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "张三",
        "12800138000",
        "2026年11月3日",
        "2026-11-03",
        "1380013800",
        "138001380001",
        "12345678",
        "电话",
    ],
)
def test_is_phone_rejects(text: str) -> None:
    assert not is_phone(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("电话：13800138000", "13800138000"),
        ("联系人：李四（138 0013 8000）", "138 0013 8000"),
        ("电话：（020）8312 3456转801，手机13800138000", "（020）8312 3456转801"),
        ("办公室电话 83123456-801", "83123456-801"),
        ("投资12345678元，2026年11月3日", None),
        ("本月共办理23件", None),
        ("", None),
    ],
)
def test_find_phone_returns_number_as_written(text: str, expected: str | None) -> None:
    assert find_phone(text) == expected


def test_fold_aligned_maps_folded_text_back_to_source() -> None:
    text = "標題：２０２６"
    folded, origin = fold_aligned(text)
    assert folded == "标题:2026"
    assert len(origin) == len(folded) + 1
    assert text[origin[3] : origin[len(folded)]] == "２０２６"


@given(st.text())
def test_date_and_phone_functions_never_raise(text: str) -> None:
    parse_date(text, TODAY)
    find_date(text, TODAY)
    find_phone(text)
    is_phone(text)
    folded, origin = fold_aligned(text)
    assert len(origin) == len(folded) + 1


@given(st.text(alphabet="〇○零一二三四五六七八九十廿元年月日号0123456789-./ "))
def test_parse_date_never_raises_on_date_like_text(text: str) -> None:
    result = parse_date(text, TODAY)
    assert result is None or find_date(text, TODAY) is not None
