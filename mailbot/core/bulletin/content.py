"""The monthly 《政务信息工作通报》: score rows and decision lists in, the figures of every table out.

The lead's code gathers the figures from the database into `BulletinData`;
everything here is a pure function of that value, so the same bulletin can be
rendered again at any time, for every unit (each unit's copy opens with its
own line, SPEC §6), and tested without a mailbox. Every figure is formatted
once in `build_context`, and both templates only lay the strings out, which
keeps the HTML, the text alternative and the .xlsx in agreement (the templates are
rendered in `mailbot.shell.compose`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from mailbot.core.errors import MailbotError
from mailbot.core.scoring.periods import Calendar, Period
from mailbot.core.scoring.scores import ScoreRow, format_points


class BulletinError(MailbotError, ValueError):
    """Raised when bulletin data is inconsistent: an unknown unit, or a quarter end without quarter rows."""


# ---------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class AdoptedEntry:
    """An item adopted in the period: where (刊物, 档次) and the points the adoption earned."""

    item_id: str
    unit_name: str
    title: str
    publication: str
    grade: str | None
    points: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class InstructionEntry:
    """An item that received a leader's 批示 at `level` (市, 省, 国务院) in the period."""

    item_id: str
    unit_name: str
    title: str
    level: str
    at: datetime


@dataclass(frozen=True, slots=True)
class UpperEntry:
    """An item adopted by an upper office (`level`: 省, 国务院) in the period."""

    item_id: str
    unit_name: str
    title: str
    level: str
    at: datetime


@dataclass(frozen=True, slots=True)
class YuegaoEntry:
    """A commissioned request (约稿) due in the period, with the units that answered on time, late or not."""

    number: int
    title: str
    due: date
    on_time: tuple[str, ...] = ()
    late: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UrgentEntry:
    """An urgent item and how long it waited for its first decision (None: still undecided)."""

    item_id: str
    unit_name: str
    title: str
    received_at: datetime
    first_decision_after: timedelta | None


@dataclass(frozen=True, slots=True)
class BulletinData:
    """Everything one bulletin shows; `rows` come from scoring.score_period for `period`.

    `year` is the assessment year and `number` the issue number within it
    (`issue_number`). `quarter_rows` are the rows of the period's assessment
    quarter, needed when `quarter_end` is set to name the units below their
    quarterly target. Entry lists are shown in the order given.
    """

    office: str
    title: str
    year: int
    number: int
    period: Period
    issued: date
    rows: Sequence[ScoreRow]
    series_order: Sequence[str]
    received: int
    adopted: int
    adopted_entries: Sequence[AdoptedEntry] = ()
    instruction_entries: Sequence[InstructionEntry] = ()
    upper_entries: Sequence[UpperEntry] = ()
    yuegao_entries: Sequence[YuegaoEntry] = ()
    urgent_entries: Sequence[UrgentEntry] = ()
    quarter_end: bool = False
    quarter_rows: Sequence[ScoreRow] | None = None


# ---------------------------------------------------------------- numbering and titles

_CN_DIGITS = "〇一二三四五六七八九"


def cn_number(n: int) -> str:
    """1–99 in Chinese numerals as in section headings and dates: 一, 十, 十一, 二十三."""
    if not 0 <= n < 100:
        raise BulletinError(f"无法写成中文数字：{n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return f"{head}十{_CN_DIGITS[ones] if ones else ''}"


def cn_date(day: date) -> str:
    """A date as written under an official document's signature: 二〇二六年十二月一日."""
    year = "".join(_CN_DIGITS[int(c)] for c in f"{day.year:04d}")
    return f"{year}年{cn_number(day.month)}月{cn_number(day.day)}日"


def issue_number(period: Period, cal: Calendar) -> int:
    """The issue number within the assessment year: its month's position (December = 1 in a Dec-1 year).

    A quarterly bulletin gets its quarter's number and an annual one 1.
    """
    if period.kind == "month":
        month = period.start.astimezone(cal.tz).month
        return (month - cal.year_start_month) % 12 + 1
    if period.kind == "quarter":
        return _quarter_no(period)
    return 1


def _quarter_no(period: Period) -> int:
    # Quarter labels are written by periods.quarter_period as 2026-Q4.
    return int(period.label.rsplit("Q", 1)[1])


def issue_label(data: BulletinData) -> str:
    """The issue as printed under the title: 2026年第11期, 2026年第四季度 or 2026年度."""
    if data.period.kind == "month":
        return f"{data.year}年第{data.number}期"
    if data.period.kind == "quarter":
        return f"{data.year}年第{cn_number(_quarter_no(data.period))}季度"
    return f"{data.year}年度"


def bulletin_title(data: BulletinData) -> str:
    """The bulletin's full title, e.g. 《政务信息工作通报》2026年第11期 (also the mail subject)."""
    return f"《{clean(data.title)}》{issue_label(data)}"


# ---------------------------------------------------------------- formatting


def clean(text: str) -> str:
    """`text` on one line: control characters (CR, LF, tabs…) become spaces, runs of spaces collapse."""
    spaced = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return " ".join(spaced.split())


def percent(ratio: Decimal | None) -> str:
    """A ratio as a percentage with one decimal (0.4583 → 45.8%); — when there is none."""
    if ratio is None:
        return "—"
    return f"{(ratio * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _ratio(num: int, den: int) -> Decimal | None:
    return Decimal(num) / Decimal(den) if den else None


def _points(points: Decimal | None) -> str:
    return "—" if points is None else format_points(points)


def duration(delta: timedelta | None) -> str:
    """A waiting time as people say it: 2天3小时, 1小时5分钟, 不足1分钟; 尚未处理 when None."""
    if delta is None:
        return "尚未处理"
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "不足1分钟"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


def display_width(text: str) -> int:
    """Terminal columns of `text`: wide and full-width (CJK) characters take two, combining marks none."""
    width = 0
    for c in text:
        if unicodedata.combining(c):
            continue
        width += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def text_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()
) -> list[str]:
    """Rows laid out in aligned columns for a terminal; columns in `right` are right-aligned (numbers)."""
    widths = [display_width(h) for h in header]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], display_width(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(_pad(c, widths[i], i in right) for i, c in enumerate(cells)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return [line(header), rule, *(line(r) for r in rows)]


# ---------------------------------------------------------------- context

COLUMNS: tuple[tuple[str, str], ...] = (
    ("rank", "排名"),
    ("unit", "单位"),
    ("submitted", "报送数"),
    ("adopted", "采用数"),
    ("score", "本期得分"),
    ("cumulative", "累计得分"),
    ("target", "年度指标"),
    ("completion", "完成率"),
)
"""The score table's columns: the data-col key used in the HTML and the heading."""

_NUMERIC = frozenset(i for i, (key, _) in enumerate(COLUMNS) if key != "unit")


@dataclass(frozen=True, slots=True)
class RowView:
    """One unit's line in a series table, every figure already formatted."""

    unit_id: str
    own: bool
    cells: tuple[tuple[str, str], ...]

    def text(self, key: str) -> str:
        """The formatted value of column `key`."""
        return dict(self.cells)[key]


@dataclass(frozen=True, slots=True)
class SeriesView:
    """One series' table: its rows in rank order and the same table as aligned text lines."""

    name: str
    rows: tuple[RowView, ...]
    text_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ZeroView:
    """The units of one series with no adoption this period, and those that sent nothing at all."""

    series: str
    no_adoption: tuple[str, ...]
    no_submission: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShortfallView:
    """A unit below its quarterly target at a quarter's end."""

    unit_id: str
    name: str
    score: str
    target: str
    gap: str


@dataclass(frozen=True, slots=True)
class QuarterView:
    """The units of one series below their quarterly target, as rows and as text lines."""

    series: str
    units: tuple[ShortfallView, ...]
    text_lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EntryView:
    """One listed item: title, unit and a note (档次 and points, or the 批示 level)."""

    item_id: str
    title: str
    unit: str
    note: str


@dataclass(frozen=True, slots=True)
class PublicationView:
    """The items adopted in one publication."""

    name: str
    entries: tuple[EntryView, ...]


@dataclass(frozen=True, slots=True)
class YuegaoView:
    """A commissioned request and how the units answered it."""

    number: int
    title: str
    due: str
    on_time: tuple[str, ...]
    late: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UrgentView:
    """An urgent item and the time to its first decision."""

    item_id: str
    title: str
    unit: str
    received: str
    waited: str
    text_line: str


@dataclass(frozen=True, slots=True)
class Section:
    """A numbered section of the bulletin: `key` selects the block in the templates."""

    key: str
    heading: str
    empty: bool = False


def _cn_day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _series_groups(data: BulletinData) -> list[tuple[str, list[ScoreRow]]]:
    """Rows grouped by series in `series_order` (unlisted series after, never dropped), by rank."""
    order = list(dict.fromkeys([*data.series_order, *(r.series for r in data.rows)]))
    groups: list[tuple[str, list[ScoreRow]]] = []
    for series in order:
        rows = sorted((r for r in data.rows if r.series == series), key=lambda r: r.rank)
        if rows:
            groups.append((series, rows))
    return groups


def _row_view(row: ScoreRow, unit_id: str | None) -> RowView:
    values = {
        "rank": str(row.rank),
        "unit": clean(row.unit_name),
        "submitted": str(row.submitted),
        "adopted": str(row.adopted),
        "score": format_points(row.score),
        "cumulative": format_points(row.cumulative),
        "target": _points(row.target),
        "completion": percent(row.completion),
    }
    return RowView(row.unit_id, row.unit_id == unit_id, tuple((k, values[k]) for k, _ in COLUMNS))


def _series_view(name: str, rows: list[ScoreRow], unit_id: str | None) -> SeriesView:
    views = tuple(_row_view(r, unit_id) for r in rows)
    lines = text_table(
        [h for _, h in COLUMNS], [[v.text(k) for k, _ in COLUMNS] for v in views], right=_NUMERIC
    )
    return SeriesView(clean(name), views, tuple(lines))


def own_line(data: BulletinData, unit_id: str) -> str:
    row = next((r for r in data.rows if r.unit_id == unit_id), None)
    if row is None:
        raise BulletinError(f"通报中没有该单位的得分行：{unit_id}")
    peers = sum(1 for r in data.rows if r.series == row.series)
    line = (
        f"{clean(row.unit_name)}：本单位本期得分 {format_points(row.score)} 分，"
        f"累计 {format_points(row.cumulative)} 分，"
        f"在「{clean(row.series)}」序列中排名第 {row.rank} 位（共 {peers} 个单位）"
    )
    if row.target is not None:
        line += f"；年度指标 {format_points(row.target)} 分，完成率 {percent(row.completion)}"
    line += "。"
    if row.adopted == 0:
        line += "本期没有信息被采用。"
    if data.quarter_end and data.quarter_rows is not None:
        q = next((r for r in data.quarter_rows if r.unit_id == unit_id), None)
        if q is not None and q.quarter_target is not None and q.score < q.quarter_target:
            line += (
                f"本季度得分 {format_points(q.score)} 分，"
                f"未完成季度指标 {format_points(q.quarter_target)} 分。"
            )
    return line


def _summary(data: BulletinData) -> str:
    return (
        f"{data.period.title()}，共收到各单位报送信息 {data.received} 条，采用 {data.adopted} 条，"
        f"采发率 {percent(_ratio(data.adopted, data.received))}；"
        f"上级采用 {len(data.upper_entries)} 条，领导批示 {len(data.instruction_entries)} 条。"
    )


def _publications(data: BulletinData) -> tuple[PublicationView, ...]:
    groups: dict[str, list[EntryView]] = {}
    for e in data.adopted_entries:
        grade = f"{clean(e.grade)} " if e.grade else ""
        note = f"{grade}{format_points(e.points)}分"
        groups.setdefault(clean(e.publication), []).append(
            EntryView(e.item_id, clean(e.title), clean(e.unit_name), note)
        )
    return tuple(PublicationView(name, tuple(entries)) for name, entries in groups.items())


def _zero(groups: list[tuple[str, list[ScoreRow]]]) -> tuple[ZeroView, ...]:
    views = []
    for series, rows in groups:
        none = tuple(clean(r.unit_name) for r in rows if r.adopted == 0)
        silent = tuple(clean(r.unit_name) for r in rows if r.submitted == 0)
        if none:
            views.append(ZeroView(clean(series), none, silent))
    return tuple(views)


def _quarter(data: BulletinData) -> tuple[QuarterView, ...]:
    if data.quarter_rows is None:
        raise BulletinError("季度末的通报需要本季度的得分行（quarter_rows）")
    order = list(dict.fromkeys([*data.series_order, *(r.series for r in data.quarter_rows)]))
    views = []
    for series in order:
        short = [
            ShortfallView(
                r.unit_id,
                clean(r.unit_name),
                format_points(r.score),
                format_points(r.quarter_target),
                format_points(r.quarter_target - r.score),
            )
            for r in sorted((q for q in data.quarter_rows if q.series == series), key=lambda r: r.rank)
            if r.quarter_target is not None and r.score < r.quarter_target
        ]
        if short:
            lines = text_table(
                ["单位", "季度得分", "季度指标", "差额"],
                [[s.name, s.score, s.target, s.gap] for s in short],
                right={1, 2, 3},
            )
            views.append(QuarterView(clean(series), tuple(short), tuple(lines)))
    return tuple(views)


def _urgent(data: BulletinData) -> tuple[UrgentView, ...]:
    tz = data.period.start.tzinfo
    views = []
    for e in data.urgent_entries:
        local = e.received_at.astimezone(tz)
        received = f"{local.month}月{local.day}日 {local:%H:%M}"
        waited = duration(e.first_decision_after)
        title, unit = clean(e.title), clean(e.unit_name)
        after = "尚未处理" if e.first_decision_after is None else f"首次处理用时{waited}"
        views.append(
            UrgentView(
                e.item_id, title, unit, received, waited, f"{title}（{unit}），{received}收到，{after}"
            )
        )
    return tuple(views)


def build_context(data: BulletinData, *, unit_id: str | None = None) -> dict[str, Any]:
    """Every string both templates show, with the sections that apply numbered 一、二、三…"""
    groups = _series_groups(data)
    series = tuple(_series_view(name, rows, unit_id) for name, rows in groups)
    publications = _publications(data)
    instructions = tuple(
        EntryView(e.item_id, clean(e.title), clean(e.unit_name), f"{clean(e.level)}领导批示")
        for e in data.instruction_entries
    )
    uppers = tuple(
        EntryView(e.item_id, clean(e.title), clean(e.unit_name), f"{clean(e.level)}采用")
        for e in data.upper_entries
    )
    zero = _zero(groups)
    quarter = _quarter(data) if data.quarter_end else ()
    yuegao = tuple(
        YuegaoView(
            y.number,
            clean(y.title),
            _cn_day(y.due),
            tuple(map(clean, y.on_time)),
            tuple(map(clean, y.late)),
            tuple(map(clean, y.missing)),
        )
        for y in data.yuegao_entries
    )
    urgent = _urgent(data)

    planned: list[tuple[str, str, bool]] = [
        ("summary", "总体情况", False),
        ("scores", "各单位得分情况", not series),
        ("adopted", "采用信息目录", not publications),
        ("instructions", "领导批示信息", not instructions),
        ("upper", "上级采用信息", not uppers),
        ("zero", "采用为零的单位", not zero),
    ]
    if data.quarter_end:
        planned.append(("quarter", "未完成季度指标的单位", not quarter))
    if yuegao:
        planned.append(("yuegao", "约稿完成情况", False))
    if urgent:
        planned.append(("urgent", "紧急信息处理情况", False))
    sections = [
        Section(key, f"{cn_number(i)}、{heading}", empty)
        for i, (key, heading, empty) in enumerate(planned, 1)
    ]
    return {
        "title": bulletin_title(data),
        "name": clean(data.title),
        "issue": issue_label(data),
        "office": clean(data.office),
        "issued": _cn_day(data.issued),
        "issued_cn": cn_date(data.issued),
        "subtitle": f"{data.period.title()}全市政务信息报送情况",
        "own_line": own_line(data, unit_id) if unit_id is not None else None,
        "sections": sections,
        "summary": _summary(data),
        "columns": COLUMNS,
        "series": series,
        "publications": publications,
        "instructions": instructions,
        "uppers": uppers,
        "zero": zero,
        "quarter": quarter,
        "quarter_title": data.period.title(),
        "yuegao": yuegao,
        "urgent": urgent,
    }
