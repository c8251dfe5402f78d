"""The .xlsx attached to the bulletin, read back with openpyxl as an office clerk's Excel would."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from mailbot.core.bulletin.content import AdoptedEntry, bulletin_title
from mailbot.core.bulletin.workbook import bulletin_xlsx, sheet_name, workbook_filename
from tests.fixtures.bulletin.sample import Sample, build_sample

HEADER = ("排名", "单位", "报送数", "采用数", "本期得分", "累计得分", "年度指标", "完成率")


@pytest.fixture(scope="module")
def sample() -> Sample:
    return build_sample("2026-10")


@pytest.fixture(scope="module")
def book(sample: Sample) -> Workbook:
    return load_workbook(io.BytesIO(bulletin_xlsx(sample.data)))


def test_one_sheet_per_series_plus_summary_and_adopted_items(book: Workbook, sample: Sample) -> None:
    assert book.sheetnames == ["汇总", *sample.data.series_order, "采用信息"]


def test_series_sheets_have_a_frozen_header_and_the_score_rows_as_numbers(
    book: Workbook, sample: Sample
) -> None:
    for series in sample.data.series_order:
        ws = book[series]
        assert ws.freeze_panes == "A2"
        values = list(ws.iter_rows(values_only=True))
        assert values[0] == HEADER
        rows = [r for r in sample.rows if r.series == series]
        assert len(values) - 1 == len(rows)
        for got, row in zip(values[1:], rows, strict=True):
            rank, name, submitted, adopted, score, cumulative, target, completion = got
            assert (rank, name, submitted, adopted) == (row.rank, row.unit_name, row.submitted, row.adopted)
            for cell, want in ((score, row.score), (cumulative, row.cumulative), (target, row.target)):
                assert isinstance(cell, int | float), (row.unit_id, cell)
                assert Decimal(str(cell)) == want
            assert completion is not None and row.completion is not None
            assert Decimal(str(completion)) == row.completion
        assert all(c.number_format == "0.0%" for c in ws["H"][1:])


def test_columns_are_wide_enough_for_chinese_names(book: Workbook, sample: Sample) -> None:
    for series in sample.data.series_order:
        ws = book[series]
        longest = max(len(r.unit_name) for r in sample.rows if r.series == series)
        assert ws.column_dimensions["B"].width >= 2 * longest
        for letter in "ACDEFGH":
            assert ws.column_dimensions[letter].width >= 6


def test_summary_sheet_gives_the_bulletin_figures(book: Workbook, sample: Sample) -> None:
    d = sample.data
    summary = dict(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert summary["通报"] == bulletin_title(d) == "《政务信息工作通报》2026年第11期"
    assert summary["收到信息（条）"] == d.received
    assert summary["采用信息（条）"] == d.adopted
    assert summary["上级采用（条）"] == len(d.upper_entries)
    assert summary["领导批示（条）"] == len(d.instruction_entries)
    assert summary["采发率"] == pytest.approx(d.adopted / d.received)
    assert book["汇总"].freeze_panes == "A2"


def test_adopted_items_sheet_lists_every_adoption(book: Workbook, sample: Sample) -> None:
    ws = book["采用信息"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("刊物", "标题", "单位", "档次", "得分", "采用时间", "编号")
    entries = sample.data.adopted_entries
    assert [r[6] for r in rows[1:]] == [e.item_id for e in entries]
    first = rows[1]
    e = entries[0]
    assert first[:4] == (e.publication, e.title, e.unit_name, e.grade or None)
    assert Decimal(str(first[4])) == e.points
    # Local office time, as the bulletin shows it.
    assert first[5] == e.at.astimezone(sample.data.period.start.tzinfo).replace(
        tzinfo=None, second=0, microsecond=0
    )


def test_same_data_gives_the_same_bytes(sample: Sample) -> None:
    assert bulletin_xlsx(sample.data) == bulletin_xlsx(sample.data)


def test_document_dates_are_the_issue_date_not_the_build_time(sample: Sample) -> None:
    # A rebuilt bulletin (a resend, `bulletin --out` again) must be byte-identical, so no
    # part of the file may carry the moment it was built.
    props = load_workbook(io.BytesIO(bulletin_xlsx(sample.data))).properties
    issued = sample.data.issued
    assert props.created is not None and props.modified is not None
    assert props.created.date() == props.modified.date() == issued
    assert (props.modified.hour, props.modified.minute, props.modified.second) == (0, 0, 0)


def test_formula_like_titles_stay_text(sample: Sample) -> None:
    at = sample.data.adopted_entries[0].at
    evil = AdoptedEntry(
        "EVIL", "越秀区政府", '=HYPERLINK("http://evil.example","点我")', "穗府信息", None, Decimal(1), at
    )
    data = replace(sample.data, adopted_entries=[evil])
    ws = load_workbook(io.BytesIO(bulletin_xlsx(data)))["采用信息"]
    assert ws["B2"].data_type == "s"
    assert ws["B2"].value == '=HYPERLINK("http://evil.example","点我")'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("区县", "区县"),
        ("部门[A]:*?/\\", "部门_A______"),
        ("很长的序列名称" * 6, ("很长的序列名称" * 6)[:31]),
        ("汇总", "汇总_2"),
    ],
)
def test_sheet_names_are_valid_and_unique(name: str, expected: str) -> None:
    assert sheet_name(name, {"汇总", "采用信息"}) == expected


def test_attachment_file_name(sample: Sample) -> None:
    assert workbook_filename(sample.data) == "政务信息工作通报2026年第11期.xlsx"
