"""The assessment calendar: Guangzhou's December year, the default January year, period labels."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbot.core.scoring.periods import (
    Calendar,
    PeriodError,
    is_quarter_end,
    month_period,
    months_in,
    parse_period,
    quarter_of,
    year_of,
    year_period,
)

TZ = ZoneInfo("Asia/Shanghai")
GZ = Calendar(12, 1, TZ)
JAN = Calendar(1, 1, TZ)


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("label", "cal", "start", "end", "kind"),
    [
        ("2026-10", GZ, at(2026, 10, 1), at(2026, 11, 1), "month"),
        ("2026-12", GZ, at(2026, 12, 1), at(2027, 1, 1), "month"),
        ("2026-Q1", GZ, at(2025, 12, 1), at(2026, 3, 1), "quarter"),
        ("2026-Q2", GZ, at(2026, 3, 1), at(2026, 6, 1), "quarter"),
        ("2026-Q4", GZ, at(2026, 9, 1), at(2026, 12, 1), "quarter"),
        ("2026", GZ, at(2025, 12, 1), at(2026, 12, 1), "year"),
        ("2026", JAN, at(2026, 1, 1), at(2027, 1, 1), "year"),
        ("2026-Q1", JAN, at(2026, 1, 1), at(2026, 4, 1), "quarter"),
        ("2026-q4", JAN, at(2026, 10, 1), at(2027, 1, 1), "quarter"),
        ("2026-1", GZ, at(2026, 1, 1), at(2026, 2, 1), "month"),
        ("2026年10月", GZ, at(2026, 10, 1), at(2026, 11, 1), "month"),
        ("2026年第一季度", GZ, at(2025, 12, 1), at(2026, 3, 1), "quarter"),
        ("2026年度", GZ, at(2025, 12, 1), at(2026, 12, 1), "year"),
        ("２０２６－Ｑ１", GZ, at(2025, 12, 1), at(2026, 3, 1), "quarter"),
    ],
)
def test_parse_period(label: str, cal: Calendar, start: datetime, end: datetime, kind: str) -> None:
    period = parse_period(label, cal)
    assert (period.kind, period.start, period.end) == (kind, start, end)


@pytest.mark.parametrize("label", ["2026-13", "2026-Q5", "26-10", "2026/10", "十月", "", "2026-Q0"])
def test_bad_labels_raise_a_value_error_that_says_what_is_expected(label: str) -> None:
    with pytest.raises(PeriodError) as err:
        parse_period(label, GZ)
    assert isinstance(err.value, ValueError)


def test_bad_label_message_shows_the_accepted_forms() -> None:
    with pytest.raises(PeriodError, match="2026-Q1"):
        parse_period("2026/10", GZ)


def test_november_30_and_december_1_fall_in_different_assessment_years() -> None:
    assert year_of(at(2025, 11, 30, 23, 59), GZ) == 2025
    assert year_of(at(2025, 12, 1, 0, 0), GZ) == 2026
    assert year_of(at(2025, 12, 31), JAN) == 2025


def test_year_boundary_is_local_midnight_not_utc() -> None:
    # 2025-11-30 17:00 UTC is 2025-12-01 01:00 in Guangzhou: already the new year.
    utc = datetime(2025, 11, 30, 17, 0, tzinfo=ZoneInfo("UTC"))
    assert year_of(utc, GZ) == 2026
    assert year_of(utc - timedelta(hours=2), GZ) == 2025


def test_quarter_of_a_december_day_is_q1_of_next_year() -> None:
    assert quarter_of(at(2025, 12, 15), GZ).label == "2026-Q1"
    assert quarter_of(at(2026, 2, 28, 23), GZ).label == "2026-Q1"
    assert quarter_of(at(2026, 3, 1), GZ).label == "2026-Q2"
    assert quarter_of(at(2026, 11, 30), GZ).label == "2026-Q4"


def test_months_in_quarter_and_year() -> None:
    q1 = parse_period("2026-Q1", GZ)
    assert [m.label for m in months_in(q1)] == ["2025-12", "2026-01", "2026-02"]
    year = year_period(2026, GZ)
    labels = [m.label for m in months_in(year)]
    assert labels[0] == "2025-12" and labels[-1] == "2026-11" and len(labels) == 12


def test_quarter_ends_follow_the_year_start() -> None:
    ends = [m for m in range(1, 13) if is_quarter_end(month_period(2026, m, GZ), GZ)]
    assert ends == [2, 5, 8, 11]
    ends = [m for m in range(1, 13) if is_quarter_end(month_period(2026, m, JAN), JAN)]
    assert ends == [3, 6, 9, 12]


def test_period_titles_for_bulletins() -> None:
    assert parse_period("2026-10", GZ).title() == "2026年10月"
    assert parse_period("2026-Q1", GZ).title() == "2026年第1季度"
    assert parse_period("2026", GZ).title() == "2026年度"


def test_calendar_rejects_a_year_that_does_not_start_on_the_first() -> None:
    with pytest.raises(PeriodError):
        Calendar(12, 15, TZ)
    with pytest.raises(PeriodError):
        Calendar(13, 1, TZ)
