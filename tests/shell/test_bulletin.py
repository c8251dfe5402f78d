"""The bulletin as a unit reads it: titles, ranked tables, named units, its own line, escaping, alignment.

The data comes from the real scoring of the 130 Guangzhou units over seeded
random decisions (tests/fixtures/bulletin/sample.py), so every figure checked
here is what `score_period` computed.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailbot.core.bulletin.content import (
    AdoptedEntry,
    BulletinData,
    BulletinError,
    bulletin_title,
    clean,
    cn_date,
    display_width,
    duration,
    issue_number,
)
from mailbot.core.scoring.periods import Calendar, parse_period, quarter_period, year_period
from mailbot.core.scoring.scores import ScoreRow
from mailbot.shell import compose
from mailbot.shell.compose import Copies, render_html, render_text
from tests.fixtures.bulletin.dom import parse, series_tables
from tests.fixtures.bulletin.sample import HOSTILE_TITLE, HOSTILE_UNIT, Sample, build_sample

GZ = Calendar(year_start_month=12)
COLS = ("submitted", "adopted", "score", "cumulative", "target", "completion")


@pytest.fixture(scope="module")
def october() -> Sample:
    return build_sample("2026-10")


@pytest.fixture(scope="module")
def november() -> Sample:
    return build_sample("2026-11")


@pytest.fixture(scope="module")
def hostile() -> Sample:
    return build_sample("2026-10", hostile=True)


def _figure(text: str) -> Decimal | None:
    if text == "—":
        return None
    return Decimal(text.removesuffix("%"))


def _expected(row: ScoreRow, col: str) -> Decimal | None:
    if col == "completion":
        if row.completion is None:
            return None
        return (row.completion * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    value = getattr(row, col)
    return None if value is None else Decimal(value)


def _section(text: str, heading: str) -> str:
    """The body of the text bulletin's section whose heading ends with `heading`."""
    m = re.search(
        rf"^[一二三四五六七八九十]+、{heading}\n(.*?)(?=^[一二三四五六七八九十]+、|\n\n\n)", text, re.S | re.M
    )
    assert m, f"no section {heading}"
    return m.group(1)


# ---------------------------------------------------------------- titles and numbers


@pytest.mark.parametrize(
    ("label", "cal", "number"),
    [
        ("2025-12", GZ, 1),
        ("2026-01", GZ, 2),
        ("2026-10", GZ, 11),
        ("2026-11", GZ, 12),
        ("2026-10", Calendar(), 10),
        ("2026-01", Calendar(), 1),
        ("2026-Q4", GZ, 4),
        ("2026", GZ, 1),
    ],
)
def test_issue_number_counts_within_the_assessment_year(label: str, cal: Calendar, number: int) -> None:
    assert issue_number(parse_period(label, cal), cal) == number


def test_title_of_monthly_quarterly_and_annual_bulletins(october: Sample) -> None:
    assert bulletin_title(october.data) == "《政务信息工作通报》2026年第11期"
    quarterly = replace(october.data, period=quarter_period(2026, 4, GZ), number=4)
    assert bulletin_title(quarterly) == "《政务信息工作通报》2026年第四季度"
    annual = replace(october.data, period=year_period(2026, GZ), number=1)
    assert bulletin_title(annual) == "《政务信息工作通报》2026年度"


def test_both_versions_carry_title_issue_and_signature(october: Sample) -> None:
    html, text = render_html(october.data), render_text(october.data)
    for out in (html, text):
        assert "政务信息工作通报" in out
        assert "2026年第11期" in out
        assert "2026年10月全市政务信息报送情况" in out
        assert "广州市人民政府办公厅" in out
        assert "二〇二六年十一月一日" in out
    assert "<title>《政务信息工作通报》2026年第11期</title>" in html


@pytest.mark.parametrize(
    ("day", "written"),
    [
        (date(2026, 12, 1), "二〇二六年十二月一日"),
        (date(2026, 10, 31), "二〇二六年十月三十一日"),
        (date(2030, 2, 20), "二〇三〇年二月二十日"),
    ],
)
def test_signature_date_in_chinese_numerals(day: date, written: str) -> None:
    assert cn_date(day) == written


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (None, "尚未处理"),
        (timedelta(seconds=20), "不足1分钟"),
        (timedelta(minutes=42), "42分钟"),
        (timedelta(hours=2), "2小时"),
        (timedelta(hours=1, minutes=5), "1小时5分钟"),
        (timedelta(days=2, hours=3, minutes=9), "2天3小时"),
    ],
)
def test_time_to_first_decision_as_people_say_it(delta: timedelta | None, said: str) -> None:
    assert duration(delta) == said


# ---------------------------------------------------------------- the summary and the tables


def test_summary_gives_received_adopted_rate_upper_and_instructions(october: Sample) -> None:
    d = october.data
    rate = (Decimal(d.adopted) / d.received * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    expected = (
        f"收到各单位报送信息 {d.received} 条，采用 {d.adopted} 条，采发率 {rate}%；"
        f"上级采用 {len(d.upper_entries)} 条，领导批示 {len(d.instruction_entries)} 条。"
    )
    assert d.upper_entries and d.instruction_entries
    assert expected in render_text(d)
    assert expected in parse(render_html(d)).having("data-section", "summary")[0].text()


def test_each_series_table_lists_its_units_in_rank_order_with_their_figures(october: Sample) -> None:
    tables = series_tables(parse(render_html(october.data)))
    assert list(tables) == october.data.series_order == ["区县", "部门A", "部门B", "直报点A", "直报点B"]
    assert sum(len(rows) for rows in tables.values()) == 130
    for series, shown in tables.items():
        rows = [r for r in october.rows if r.series == series]
        assert [s["unit_id"] for s in shown] == [r.unit_id for r in rows]
        ranks = [int(s["rank"]) for s in shown]
        assert ranks == sorted(ranks)
        for s, r in zip(shown, rows, strict=True):
            assert s["unit"] == r.unit_name
            assert int(s["rank"]) == r.rank
            for col in COLS:
                assert _figure(s[col]) == _expected(r, col), (r.unit_id, col)


def test_equal_scores_share_a_rank_and_the_next_rank_skips(october: Sample) -> None:
    tables = series_tables(parse(render_html(october.data)))
    shared = 0
    for shown in tables.values():
        for before, after in itertools.pairwise(shown):
            if before["score"] == after["score"]:
                assert before["rank"] == after["rank"]
                shared += 1
            else:
                assert int(after["rank"]) == shown.index(after) + 1
    assert shared, "the sample should contain ties"


def test_a_series_missing_from_series_order_is_still_shown(october: Sample) -> None:
    data = replace(october.data, series_order=["部门A"])
    tables = series_tables(parse(render_html(data)))
    assert next(iter(tables)) == "部门A"
    assert set(tables) == {"区县", "部门A", "部门B", "直报点A", "直报点B"}


def test_adopted_items_are_listed_under_their_publication(october: Sample) -> None:
    doc = parse(render_html(october.data))
    section = doc.having("data-section", "adopted")[0]
    shown: dict[str, list[str]] = {}
    current = ""
    for node in section.iter():
        if "data-publication" in node.attrs:
            current = node.attrs["data-publication"]
        elif "data-item" in node.attrs:
            shown.setdefault(current, []).append(node.attrs["data-item"])
    expected: dict[str, list[str]] = {}
    for e in october.data.adopted_entries:
        expected.setdefault(e.publication, []).append(e.item_id)
    assert shown == expected
    first = october.data.adopted_entries[0]
    line = f"{first.title}（{first.unit_name}） "
    assert line in render_text(october.data)


def test_instructions_and_upper_adoptions_are_listed(october: Sample) -> None:
    text = render_text(october.data)
    instructed = _section(text, "领导批示信息")
    for e in october.data.instruction_entries:
        assert f"{e.title}（{e.unit_name}） {e.level}领导批示" in instructed
    upper = _section(text, "上级采用信息")
    for u in october.data.upper_entries:
        assert f"{u.title}（{u.unit_name}） {u.level}采用" in upper


def test_zero_adoption_units_are_named_per_series(october: Sample) -> None:
    doc = parse(render_html(october.data))
    paragraphs = {p.attrs["data-zero-series"]: p.text() for p in doc.having("data-zero-series")}
    text_zero = _section(render_text(october.data), "采用为零的单位")
    for series in october.data.series_order:
        rows = [r for r in october.rows if r.series == series]
        zero = [r.unit_name for r in rows if r.adopted == 0]
        assert zero, series
        named = paragraphs[series].split("。")[0]
        for row in rows:
            assert (row.unit_name in named) == (row.adopted == 0), row.unit_name
        assert f"{series}（{len(zero)}个）：{'、'.join(zero)}。" in text_zero
        silent = [r.unit_name for r in rows if r.submitted == 0]
        if silent:
            assert f"其中本期未报送信息的：{'、'.join(silent)}。" in paragraphs[series]


def test_commissioned_requests_and_urgent_items_have_their_sections(october: Sample) -> None:
    text = render_text(october.data)
    yuegao = _section(text, "约稿完成情况")
    y = october.data.yuegao_entries[0]
    assert f"约稿第{y.number}号：{y.title}（2026年10月20日截止）" in yuegao
    assert f"未报送2个单位：{'、'.join(y.missing)}" in yuegao
    urgent = _section(text, "紧急信息处理情况")
    assert "某路段突发路面塌陷（越秀区政府），10月6日 09:00收到，首次处理用时42分钟" in urgent
    assert "某地出现强降雨（荔湾区政府），10月10日 00:00收到，尚未处理" in urgent
    bare = replace(october.data, yuegao_entries=(), urgent_entries=())
    assert "约稿完成情况" not in render_text(bare)
    assert "紧急信息" not in render_html(bare)


def test_sections_are_numbered_in_order_without_gaps(october: Sample) -> None:
    headings = re.findall(r"^([一二三四五六七八九十]+)、", render_text(october.data), re.M)
    assert headings == ["一", "二", "三", "四", "五", "六", "七", "八"]


def test_an_empty_month_says_so(october: Sample) -> None:
    empty = replace(october.data, adopted_entries=(), instruction_entries=(), upper_entries=())
    text = render_text(empty)
    assert "本期无采用信息。" in text
    assert "本期无领导批示信息。" in text
    assert "本期无上级采用信息。" in text


# ---------------------------------------------------------------- quarter end


def test_quarter_end_names_the_units_below_their_quarterly_target(november: Sample) -> None:
    data = november.data
    assert data.quarter_end and data.quarter_rows is not None
    below = {
        r.unit_id for r in data.quarter_rows if r.quarter_target is not None and r.score < r.quarter_target
    }
    assert below
    doc = parse(render_html(data))
    shown = {tr.attrs["data-unit"] for t in doc.having("data-quarter-series") for tr in t.having("data-unit")}
    assert shown == below
    quarter = _section(render_text(data), "未完成季度指标的单位")
    for r in data.quarter_rows:
        if r.unit_id in below:
            assert r.unit_name in quarter
    assert any(r.quarter_target is not None and r.score >= r.quarter_target for r in data.quarter_rows)


def test_no_quarter_section_in_the_middle_of_a_quarter(october: Sample) -> None:
    assert not october.data.quarter_end
    assert "季度指标" not in render_text(october.data)
    assert "data-quarter-series" not in render_html(october.data)


def test_quarter_end_without_quarter_rows_is_an_error(november: Sample) -> None:
    with pytest.raises(BulletinError):
        render_html(replace(november.data, quarter_rows=None))


# ---------------------------------------------------------------- each unit's own copy


@pytest.mark.parametrize("unit_id", ["QX01", "QX12", "BA05", "BB27", "ZA01", "ZB02"])
def test_each_unit_copy_opens_with_its_score_and_rank(october: Sample, unit_id: str) -> None:
    row = next(r for r in october.rows if r.unit_id == unit_id)
    peers = sum(1 for r in october.rows if r.series == row.series)
    expected = (
        f"{row.unit_name}：本单位本期得分 {_fmt(row.score)} 分，累计 {_fmt(row.cumulative)} 分，"
        f"在「{row.series}」序列中排名第 {row.rank} 位（共 {peers} 个单位）"
    )
    text = render_text(october.data, unit_id=unit_id)
    assert text.splitlines()[0].startswith("【本单位情况】" + expected)
    doc = parse(render_html(october.data, unit_id=unit_id))
    first_cell = doc.having("data-own-line")[0]
    assert expected in first_cell.text()
    assert [tr.attrs["data-unit"] for tr in doc.having("data-own")] == [unit_id]
    # The shared copy names no unit first.
    assert "本单位" not in render_text(october.data)


def _fmt(points: Decimal) -> str:
    return f"{points.normalize():f}"


def test_own_line_gives_target_and_completion_when_the_series_has_one(october: Sample) -> None:
    text = render_text(october.data, unit_id="QX01").splitlines()[0]
    row = next(r for r in october.rows if r.unit_id == "QX01")
    assert f"年度指标 72 分，完成率 {_expected(row, 'completion')}%" in text


def test_a_unit_not_in_the_bulletin_is_an_error(october: Sample) -> None:
    with pytest.raises(BulletinError, match="NOPE"):
        render_text(october.data, unit_id="NOPE")


# ---------------------------------------------------------------- hostile text and email safety


def test_hostile_titles_and_names_are_escaped_in_html(hostile: Sample) -> None:
    html = render_html(hostile.data, unit_id=HOSTILE_UNIT)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A&amp;B &amp;amp; x Bcc: evil@example.org" in html
    assert "海珠区政府&lt;b&gt;&amp;amp;" in html
    assert "\r" not in html
    assert "\nBcc" not in html
    doc = parse(html)
    items = [n.text() for n in doc.having("data-item", "HOSTILE-1")]
    assert items and all(clean(HOSTILE_TITLE) in t for t in items)
    # Had the unit name's <b> been markup, a bold element holding "&amp;" would exist.
    assert not doc.find_all(lambda n: n.tag == "script")
    assert not doc.find_all(lambda n: n.tag == "b" and n.text().startswith("&"))
    assert "海珠区政府<b>&amp;" in [row["unit"] for row in series_tables(doc)["区县"]]


def test_hostile_text_stays_on_its_own_line_in_plain_text(hostile: Sample) -> None:
    text = render_text(hostile.data)
    assert "\r" not in text
    assert not any(line.startswith("Bcc:") for line in text.splitlines())
    assert "<script>alert(1)</script> A&B &amp; x Bcc: evil@example.org（海珠区政府） 标题 2分" in text


def test_html_is_self_contained_and_inline_styled(october: Sample) -> None:
    html = render_html(october.data, unit_id="QX01")
    lowered = html.lower()
    for banned in ("<script", "<style", "<link", "<img", "class=", "@import", "url(", "http://", "https://"):
        assert banned not in lowered, banned
    doc = parse(html)
    layout = [t for t in doc.find_all(lambda n: n.tag == "table") if "data-series" not in t.attrs]
    assert all(
        t.attrs.get("role") == "presentation" or set(t.attrs) & {"data-quarter-series", "data-urgent"}
        for t in layout
    )
    data_tables = doc.having("data-series")
    assert all(t.attrs.get("border") == "1" and t.attrs.get("cellpadding") for t in data_tables)


@settings(max_examples=60, deadline=None)
@given(title=st.text(min_size=1, max_size=40), unit=st.text(min_size=1, max_size=12))
def test_any_title_comes_back_as_the_same_text(title: str, unit: str) -> None:
    period = parse_period("2026-10", GZ)
    row = ScoreRow(
        "U1", unit, "区县", 1, 1, Decimal(2), Decimal(2), Decimal(72), Decimal("0.0278"), 1, Decimal(1)
    )
    at = datetime(2026, 10, 5, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    data = BulletinData(
        office="办公厅",
        title="政务信息工作通报",
        year=2026,
        number=11,
        period=period,
        issued=date(2026, 11, 1),
        rows=[row],
        series_order=["区县"],
        received=1,
        adopted=1,
        adopted_entries=[AdoptedEntry("I1", unit, title, "穗府信息", "标题", Decimal(2), at)],
    )
    doc = parse(render_html(data, unit_id="U1"))
    assert doc.having("data-item", "I1")[0].text().startswith(clean(title) + "（" + clean(unit) + "）")
    assert series_tables(doc)["区县"][0]["unit"] == clean(unit).strip()
    assert not doc.find_all(lambda n: n.tag == "script")


# ---------------------------------------------------------------- plain text alignment


@pytest.mark.parametrize(
    ("s", "width"), [("abc", 3), ("区县", 4), ("Ａ１", 4), ("é", 1), ("市府驻京办 12", 13)]
)
def test_display_width_counts_cjk_as_two_columns(s: str, width: int) -> None:
    assert display_width(s) == width


def _columns(text: str) -> int:
    # An independent measure: what a terminal does with CJK (wide) characters.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _tokens(line: str) -> list[tuple[int, int, str]]:
    """(start, end, token) by terminal columns for the space-separated tokens of a line."""
    out, col = [], 0
    for m in re.finditer(r"\S+|\s+", line):
        w = _columns(m.group())
        if not m.group().isspace():
            out.append((col, col + w, m.group()))
        col += w
    return out


def test_text_tables_are_aligned_in_display_columns(hostile: Sample) -> None:
    text = render_text(hostile.data)
    tables = re.findall(r"^（\d）(\S+?)（\d+个单位）\n(.*?)(?:\n\n|\Z)", text, re.S | re.M)
    assert [name for name, _ in tables] == hostile.data.series_order
    for name, body in tables:
        lines = body.splitlines()
        header, rule, rows = lines[0], lines[1], lines[2:]
        assert set(rule) == {"-"} and _columns(header) == len(rule)
        assert len(rows) == sum(1 for r in hostile.rows if r.series == name)
        head = _tokens(header)
        for line in rows:
            tokens = _tokens(line)
            assert len(tokens) == 8, line
            # Numbers are right-aligned under their heading, the unit name starts under 单位.
            assert [t[1] for t in tokens[2:]] == [h[1] for h in head[2:]], line
            assert tokens[0][1] == head[0][1] and tokens[1][0] == head[1][0], line


@pytest.mark.parametrize("which", ["october", "november", "hostile"])
def test_each_units_copy_rendered_once_and_personalised_equals_its_own_rendering(
    which: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample: Sample = request.getfixturevalue(which)
    data = sample.data
    expected = {r.unit_id: (render_html(data, unit_id=r.unit_id), render_text(data, unit_id=r.unit_id))
                for r in data.rows}  # fmt: skip
    # The personalised copies must not fall back to a full rendering per unit.
    monkeypatch.setattr(compose, "render_html", lambda *a, **k: pytest.fail("fell back to a full rendering"))
    copies = Copies(data)
    for unit_id, (html, text) in expected.items():
        assert copies.html(unit_id) == html, unit_id
        assert copies.text(unit_id) == text, unit_id
    own = [unit_id for unit_id in expected if 'data-own="1"' in copies.html(unit_id)]
    assert own == list(expected)  # every unit's copy highlights a row: its own
    with pytest.raises(BulletinError):
        copies.html("NO-SUCH-UNIT")
