"""The bulletin's tables as an .xlsx attachment, for offices that file and sort them in Excel.

Figures are written as numbers (completion as a percentage format), never as
text, so the sheet can be summed and sorted; text that looks like a formula
stays text. The bytes depend only on the data: timestamps inside the file and
the zip are set from the issue date, so a re-run attaches an identical file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from mailbot.core.bulletin.content import COLUMNS, BulletinData, bulletin_title, clean, display_width

Value = str | int | Decimal | datetime | None

SUMMARY_SHEET = "汇总"
ADOPTED_SHEET = "采用信息"
_FORBIDDEN = set("[]:*?/\\")
_MAX_WIDTH = 60
_HEADER_FONT = Font(bold=True, color="7A0000")
_HEADER_FILL = PatternFill("solid", fgColor="F5E3E3")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_PERCENT = "0.0%"


def sheet_name(name: str, taken: set[str]) -> str:
    """`name` as a valid, unused sheet name: no []:*?/\\, at most 31 characters, unique in `taken`."""
    base = "".join("_" if c in _FORBIDDEN else c for c in clean(name)).strip("'") or "序列"
    base = base[:31]
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate)
    return candidate


def workbook_filename(data: BulletinData) -> str:
    """The attachment's file name, e.g. 政务信息工作通报2026年第11期.xlsx."""
    title = bulletin_title(data).replace("《", "").replace("》", "")
    return "".join("_" if c in _FORBIDDEN else c for c in title) + ".xlsx"


def _put(ws: Worksheet, row: int, col: int, value: Value, fmt: str | None = None) -> Cell:
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = clean(value)
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        # A title such as =HYPERLINK(...) is text from a stranger, never a formula.
        cell.data_type = "s"
    if fmt:
        cell.number_format = fmt
    cell.border = _BORDER
    return cell


def _table(
    ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Value]], formats: dict[int, str]
) -> None:
    """Header (frozen, styled) and rows from A1, with column widths fitted to CJK text."""
    for col, label in enumerate(header, 1):
        cell = _put(ws, 1, col, label)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
    for r, values in enumerate(rows, 2):
        for col, value in enumerate(values, 1):
            _put(ws, r, col, value, formats.get(col))
    ws.freeze_panes = "A2"
    for col, label in enumerate(header, 1):
        texts = [label, *(_shown(row[col - 1], formats.get(col)) for row in rows)]
        width = min(_MAX_WIDTH, max(display_width(t) for t in texts) + 2)
        ws.column_dimensions[get_column_letter(col)].width = width


def _shown(value: Value, fmt: str | None) -> str:
    # Roughly what Excel shows, to size the column.
    if value is None:
        return ""
    if fmt == _PERCENT and isinstance(value, Decimal):
        return f"{value * 100:.1f}%"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return clean(str(value))


def _summary(ws: Worksheet, data: BulletinData) -> None:
    rate = Decimal(data.adopted) / Decimal(data.received) if data.received else None
    rows: list[list[Value]] = [
        ["通报", bulletin_title(data)],
        ["编发单位", data.office],
        ["期间", data.period.title()],
        ["签发日期", f"{data.issued.year}年{data.issued.month}月{data.issued.day}日"],
        ["收到信息（条）", data.received],
        ["采用信息（条）", data.adopted],
        ["采发率", rate],
        ["上级采用（条）", len(data.upper_entries)],
        ["领导批示（条）", len(data.instruction_entries)],
    ]
    _table(ws, ["项目", "数值"], rows, {})
    ws.cell(row=8, column=2).number_format = _PERCENT


def _series_rows(data: BulletinData, series: str) -> list[list[Value]]:
    rows = sorted((r for r in data.rows if r.series == series), key=lambda r: r.rank)
    return [
        [r.rank, r.unit_name, r.submitted, r.adopted, r.score, r.cumulative, r.target, r.completion]
        for r in rows
    ]


def _adopted_rows(data: BulletinData) -> list[list[Value]]:
    tz = data.period.start.tzinfo
    return [
        [
            e.publication,
            e.title,
            e.unit_name,
            e.grade or "",
            e.points,
            # Excel has no time zones: the office's local time to the minute is what readers expect.
            e.at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0),
            e.item_id,
        ]
        for e in data.adopted_entries
    ]


def _fixed_zip(raw: bytes, stamp: datetime) -> bytes:
    """The same archive with every member's timestamp set to `stamp` (zip stores local time)."""
    out = io.BytesIO()
    when = (stamp.year, stamp.month, stamp.day, 0, 0, 0)
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=when)
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def bulletin_xlsx(data: BulletinData) -> bytes:
    """The workbook: 汇总, one sheet per series (排名 … 完成率, header frozen) and 采用信息."""
    wb = Workbook()
    taken = {SUMMARY_SHEET, ADOPTED_SHEET}
    summary = wb.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    _summary(summary, data)
    order = list(dict.fromkeys([*data.series_order, *(r.series for r in data.rows)]))
    header = [label for _, label in COLUMNS]
    numbers = {8: _PERCENT}
    for series in order:
        rows = _series_rows(data, series)
        if rows:
            _table(wb.create_sheet(sheet_name(series, taken)), header, rows, numbers)
    _table(
        wb.create_sheet(ADOPTED_SHEET),
        ["刊物", "标题", "单位", "档次", "得分", "采用时间", "编号"],
        _adopted_rows(data),
        {6: "yyyy-mm-dd hh:mm"},
    )
    stamp = datetime(data.issued.year, data.issued.month, data.issued.day)
    wb.properties.creator = clean(data.office)
    wb.properties.title = bulletin_title(data)
    wb.properties.created = stamp
    wb.properties.modified = stamp
    buf = io.BytesIO()
    # Not wb.save(): it stamps "modified" with the current time, and the same bulletin must give
    # the same bytes whenever it is rebuilt (a resend, a second `bulletin --out`).
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_zip(buf.getvalue(), stamp)
