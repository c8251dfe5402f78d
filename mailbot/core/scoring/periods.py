"""The assessment calendar: months, assessment quarters and assessment years.

Offices do not assess on the calendar year: Guangzhou's year runs from
December 1 to November 30 and is named by the calendar year in which it ends
(2026 = 2025-12-01 … 2026-11-30, so 2026-Q1 is December to February). Months
are always calendar months. Every boundary is local midnight in the office's
time zone, and every period is half-open: ``start <= t < end``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from mailbot.core.errors import MailbotError

PeriodKind = Literal["month", "quarter", "year"]


class PeriodError(MailbotError, ValueError):
    """Raised when a period label cannot be read or names a period that does not exist."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """When the assessment year starts (month, day) and in which time zone days are counted.

    Only years that start on the 1st of a month are supported: quarters are
    then whole calendar months, which is what every rule set in use needs.
    """

    year_start_month: int = 1
    year_start_day: int = 1
    tz: ZoneInfo = ZoneInfo("Asia/Shanghai")

    def __post_init__(self) -> None:
        if not 1 <= self.year_start_month <= 12:
            raise PeriodError(f"评估年度起始月份必须在 1–12 之间，实为 {self.year_start_month}")
        if self.year_start_day != 1:
            raise PeriodError(f"评估年度只能从某月1日开始，实为 {self.year_start_day} 日")


@dataclass(frozen=True, slots=True)
class Period:
    """A month, an assessment quarter or an assessment year; `end` is exclusive."""

    kind: PeriodKind
    label: str
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (tz-aware) falls inside the period."""
        return self.start <= moment < self.end

    def title(self) -> str:
        """The period as written in a bulletin: 2026年10月, 2026年第1季度, 2026年度."""
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            year, q = self.label.split("-Q")
            return f"{year}年第{q}季度"
        return f"{self.label}年度"


def _midnight(year: int, month: int, cal: Calendar) -> datetime:
    # Month arithmetic that may run past December or before January.
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=cal.tz)


def _year_start(year: int, cal: Calendar) -> datetime:
    # A year named Y ends in calendar year Y; if it starts in January it also began in Y.
    first_year = year if cal.year_start_month == 1 else year - 1
    return _midnight(first_year, cal.year_start_month, cal)


def month_period(year: int, month: int, cal: Calendar) -> Period:
    """The calendar month `year`-`month` (label ``2026-10``)."""
    if not 1 <= month <= 12:
        raise PeriodError(f"月份必须在 1–12 之间，实为 {month}")
    return Period(
        "month", f"{year:04d}-{month:02d}", _midnight(year, month, cal), _midnight(year, month + 1, cal)
    )


def year_period(year: int, cal: Calendar) -> Period:
    """Assessment year `year`, named by the calendar year in which it ends (label ``2026``)."""
    start = _year_start(year, cal)
    return Period("year", f"{year:04d}", start, _midnight(start.year, start.month + 12, cal))


def quarter_period(year: int, quarter: int, cal: Calendar) -> Period:
    """Quarter 1–4 of assessment year `year` (label ``2026-Q1``)."""
    if not 1 <= quarter <= 4:
        raise PeriodError(f"季度必须在 1–4 之间，实为 {quarter}")
    start = _year_start(year, cal)
    first = start.month + 3 * (quarter - 1)
    return Period(
        "quarter",
        f"{year:04d}-Q{quarter}",
        _midnight(start.year, first, cal),
        _midnight(start.year, first + 3, cal),
    )


def year_of(moment: datetime, cal: Calendar) -> int:
    """The assessment year (by its name) in which `moment` falls."""
    local = _local(moment, cal)
    starts_before_january = cal.year_start_month != 1 and local.month >= cal.year_start_month
    return local.year + 1 if starts_before_january else local.year


def quarter_of(moment: datetime, cal: Calendar) -> Period:
    """The assessment quarter in which `moment` falls."""
    local = _local(moment, cal)
    offset = (local.month - cal.year_start_month) % 12
    return quarter_period(year_of(moment, cal), offset // 3 + 1, cal)


def month_of(moment: datetime, cal: Calendar) -> Period:
    """The calendar month in which `moment` falls (in the office's time zone)."""
    local = _local(moment, cal)
    return month_period(local.year, local.month, cal)


def year_containing(period: Period, cal: Calendar) -> Period:
    """The assessment year that contains `period` (a period never spans two years)."""
    return year_period(year_of(period.start, cal), cal)


def months_in(period: Period) -> list[Period]:
    """The calendar months that make up `period`, in order."""
    tz = period.start.tzinfo
    if not isinstance(tz, ZoneInfo):
        raise PeriodError("期间的起点必须带时区")
    cal = Calendar(tz=tz)
    months: list[Period] = []
    cursor = period.start
    while cursor < period.end:
        months.append(month_period(cursor.year, cursor.month, cal))
        cursor = _midnight(cursor.year, cursor.month + 1, cal)
    return months


def is_quarter_end(month: Period, cal: Calendar) -> bool:
    """Whether `month` is the last month of its assessment quarter."""
    return (month.start.month - cal.year_start_month) % 3 == 2


_MONTH = re.compile(r"(\d{4})(?:-|年)(\d{1,2})月?")
_QUARTER = re.compile(r"(\d{4})(?:-|年第?)(?:Q([1-4])|([1-4一二三四])季(?:度)?)")
_YEAR = re.compile(r"(\d{4})(?:年度?)?")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4}


def parse_period(label: str, cal: Calendar) -> Period:
    """Read ``2026-10`` (a month), ``2026-Q1`` (an assessment quarter) or ``2026`` (an assessment year).

    The Chinese forms 2026年10月, 2026年第1季度 and 2026年度 are accepted too.
    """
    text = unicodedata.normalize("NFKC", label).strip().upper().replace(" ", "")
    if m := _QUARTER.fullmatch(text):
        q = m.group(2) or m.group(3)
        return quarter_period(int(m.group(1)), int(_CN_DIGITS.get(q, q)), cal)
    if m := _MONTH.fullmatch(text):
        return month_period(int(m.group(1)), int(m.group(2)), cal)
    if m := _YEAR.fullmatch(text):
        return year_period(int(m.group(1)), cal)
    raise PeriodError(
        f"无法识别的期间 {label!r}：应写作 2026-10（月）、2026-Q1（考核季度）或 2026（考核年度）"
    )


def _local(moment: datetime, cal: Calendar) -> datetime:
    if moment.tzinfo is None:
        raise PeriodError(f"时间必须带时区：{moment.isoformat()}")
    return moment.astimezone(cal.tz)
