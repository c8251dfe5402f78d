"""Worked examples of the county rules (seed 001, 政务信息通报范文2; config/profiles/county.toml).

Column points with 综合/简要 grades, 批示 bonuses, 转报 points, adoption by the
city office scored on top (分别计分，累计算分), and penalties.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from mailbot.core.review.decisions import Adopt, Decision, Forward, Instruct, Penalty, Undo, UpperAdopt
from mailbot.core.scoring.rules import load_rules, rules_from_text
from mailbot.core.submission.units import Unit
from tests.core.test_scoring_guangzhou import Desk, at

PROFILE = Path(__file__).resolve().parents[2] / "config" / "profiles" / "county.toml"

COUNTY_UNITS = [
    Unit("chengguan", "城关镇人民政府", "街镇乡"),
    Unit("xinzhen", "新镇乡人民政府", "街镇乡"),
    Unit("jiedao", "东城街道办事处", "街镇乡"),
    Unit("fgj", "县发改局", "县直部门"),
    Unit("jyj", "县教育局", "县直部门"),
]


def desk() -> Desk:
    return Desk(load_rules(PROFILE), list(COUNTY_UNITS))


def one(d: Desk, unit: str, *decisions: Decision, commissioned: bool = False) -> str:
    """An item of `unit` received on 2026-10-08 and decided on 2026-10-10 onwards."""
    item = d.item(unit, at(2026, 10, 8), commissioned=commissioned)
    for n, decision in enumerate(decisions):
        d.decide(item, decision, at(2026, 10, 10 + n))
    return item


def test_kuaixun_columns_comprehensive_3_brief_1() -> None:
    d = desk()
    one(d, "chengguan", Adopt("工作简况", "综合"))
    one(d, "chengguan", Adopt("工作简况", "简要"))
    one(d, "xinzhen", Adopt("情况通报", "综合"))
    one(d, "xinzhen", Adopt("情况通报", "简要"))
    one(d, "jiedao", Adopt("重要会议"))
    one(d, "jiedao", Adopt("上情动态"))
    one(d, "jiedao", Adopt("上情动态", "网摘"))
    rows = d.rows("2026-10")
    assert (rows["chengguan"].score, rows["xinzhen"].score, rows["jiedao"].score) == (4, 4, 7)


def test_commissioned_item_in_a_kuaixun_column_counts_3_even_when_brief() -> None:
    d = desk()
    one(d, "fgj", Adopt("工作简况", "简要"), commissioned=True)
    one(d, "jyj", Adopt("上情动态", "网摘"), commissioned=True)
    one(d, "chengguan", Adopt("要情快报", "简讯"), commissioned=True)  # not a 快讯 column: 1
    rows = d.rows("2026-10")
    assert (rows["fgj"].score, rows["jyj"].score, rows["chengguan"].score) == (3, 3, 1)


def test_zhuanbao_topical_7_comprehensive_3_and_yaoqing_3_or_1() -> None:
    d = desk()
    one(d, "fgj", Adopt("专报信息", "专题"))
    one(d, "fgj", Adopt("专报信息", "综合"))
    one(d, "jyj", Adopt("要情快报", "综合"))
    one(d, "jyj", Adopt("要情快报", "简讯"))
    rows = d.rows("2026-10")
    assert (rows["fgj"].score, rows["jyj"].score) == (10, 4)


def test_gongzuo_jiaoliu_and_zhengwu_diaoyan_10_each() -> None:
    d = desk()
    one(d, "xinzhen", Adopt("工作交流"))
    one(d, "xinzhen", Adopt("政务调研"))
    assert d.score("xinzhen", "2026-10") == 20


def test_county_leader_instruction_5_or_10_on_exchange_and_research() -> None:
    d = desk()
    one(d, "chengguan", Adopt("工作简况", "综合"), Instruct("县"))
    one(d, "xinzhen", Adopt("工作交流"), Instruct("县领导"))
    one(d, "jiedao", Adopt("政务调研"), Instruct("县"), Instruct("县"))  # one 批示 bonus per level
    rows = d.rows("2026-10")
    assert (rows["chengguan"].score, rows["xinzhen"].score, rows["jiedao"].score) == (8, 20, 20)


def test_city_leader_instruction_plus_10() -> None:
    d = desk()
    one(d, "fgj", Adopt("专报信息", "专题"), Instruct("市"), Instruct("县"))
    assert d.score("fgj", "2026-10") == 7 + 10 + 5


def test_forwarding_to_the_city_earns_1_even_without_adoption() -> None:
    d = desk()
    one(d, "jyj", Forward("市政府办公厅"))
    row = d.rows("2026-10")["jyj"]
    assert (row.score, row.adopted) == (1, 0)


def test_adopted_by_both_offices_scores_both_cumulatively() -> None:
    d = desk()
    one(d, "chengguan", Adopt("工作交流"), Forward("市"), Adopt("市府工作交流"))
    one(d, "xinzhen", Adopt("专报信息", "综合"), Forward("市"), Adopt("市府专报信息"))
    one(d, "jiedao", Adopt("工作简况", "简要"), Forward("市"), Adopt("市府简要信息"))
    rows = d.rows("2026-10")
    assert rows["chengguan"].score == 10 + 1 + 20
    assert rows["xinzhen"].score == 3 + 1 + 10
    assert rows["jiedao"].score == 1 + 1 + 3


def test_bare_upper_adoption_by_the_city_counts_as_work_news_5() -> None:
    d = desk()
    one(d, "fgj", Adopt("工作简况", "综合"), Forward("市"), UpperAdopt("市府"))
    assert d.score("fgj", "2026-10") == 3 + 1 + 5


def test_missed_late_or_false_reports_minus_10_each_time() -> None:
    d = desk()
    one(d, "jyj", Adopt("要情快报", "综合"), Penalty(0, "迟报"), Penalty(0, "漏报"), Penalty(10, "报送不实"))
    assert d.score("jyj", "2026-10") == 3 - 30


def test_two_county_publications_add_under_sum() -> None:
    d = desk()
    one(d, "chengguan", Adopt("工作简况", "综合"), Adopt("专报信息", "综合"))
    assert d.score("chengguan", "2026-10") == 6


def test_calendar_year_quarters_and_no_target_means_no_completion() -> None:
    d = desk()
    dec = d.item("fgj", at(2025, 12, 20))
    d.decide(dec, Adopt("工作交流"), at(2025, 12, 31, 23, 59))
    jan = d.item("fgj", at(2026, 1, 2))
    d.decide(jan, Adopt("政务调研"), at(2026, 1, 2))
    q1 = d.rows("2026-Q1")["fgj"]
    assert (q1.score, q1.cumulative, q1.target, q1.completion) == (10, 10, None, None)
    assert d.rows("2025")["fgj"].score == 10
    assert d.rows("2025-Q4")["fgj"].score == 10


def test_ranks_ties_and_undo_in_the_county() -> None:
    d = desk()
    one(d, "chengguan", Adopt("工作交流"))
    one(d, "xinzhen", Adopt("政务调研"))
    undone = one(d, "jiedao", Adopt("工作交流"), Instruct("县"))
    assert d.rows("2026-10")["jiedao"].rank == 1
    d.decide(undone, Undo(), at(2026, 11, 1))  # the 批示 was recorded by mistake
    rows = d.rows("2026-10")
    assert [rows[u].rank for u in ("chengguan", "xinzhen", "jiedao")] == [1, 1, 1]
    d.decide(undone, Undo(), at(2026, 11, 1))  # and so was the adoption
    rows = d.rows("2026-10")
    assert [rows[u].rank for u in ("chengguan", "xinzhen", "jiedao")] == [1, 1, 3]
    assert (rows["jiedao"].score, rows["jiedao"].adopted) == (0, 0)


def test_explanation_sums_to_score_in_county() -> None:
    d = desk()
    one(
        d,
        "chengguan",
        Adopt("工作交流"),
        Instruct("县"),
        Forward("市"),
        Adopt("市府工作交流"),
        Penalty(0, "迟报"),
    )
    lines = d.explain("chengguan", "2026-10")
    assert [(ln.rule, ln.points) for ln in lines] == [
        ("《工作交流》采用 10分", 10),
        ("县领导批示 +10分", 10),
        ("上报市 +1分", 1),
        ("《市府工作交流》采用 20分", 20),
        ("扣分（迟报） -10分", -10),
    ]
    assert sum(ln.points for ln in lines) == d.score("chengguan", "2026-10") == 31


def test_monthly_minimum_points_capped_per_year() -> None:
    # 常山 style (notes/bulletins.md): meeting the monthly minimum earns points, capped yearly.
    text = PROFILE.read_text(encoding="utf-8").replace(
        '[ruleset.series."街镇乡"]',
        '[ruleset.series."街镇乡"]\nmonth_min = 2\nmonth_min_points = 10\nmonth_min_points_year_cap = 25',
    )
    d = Desk(rules_from_text(text), list(COUNTY_UNITS))
    for month in (1, 2, 4, 5):
        d.item("chengguan", at(2026, month, 3))
        d.item("chengguan", at(2026, month, 4))
    d.item("chengguan", at(2026, 3, 4))  # March: one item, below the minimum
    scores = [d.score("chengguan", f"2026-{m:02d}") for m in range(1, 6)]
    assert scores == [10, 10, 0, 5, 0]
    assert d.rows("2026")["chengguan"].score == 25
    lines = d.explain("chengguan", "2026-04")
    assert [(ln.rule, ln.points) for ln in lines] == [("每月报送不少于2条 +5分（全年封顶25分）", Decimal(5))]
    assert d.rows("2026-01")["fgj"].score == 0  # 县直部门 has no such rule


def test_a_city_adoption_recorded_twice_is_counted_once() -> None:
    # 《工作交流》 10, 转报市政府办公厅 +1, adopted by the 市府办公厅 as 工作交流 +20 (seed 范文2 二(二)6):
    # 31. The editor also wrote a bare 上级采用 市 for the same adoption: it must not add 工作动态's 5.
    d = desk()
    one(d, "fgj", Adopt("工作交流"), Forward("市"), Adopt("市府工作交流"), UpperAdopt("市"))
    assert d.score("fgj", "2026-10") == 31
    lines = d.explain("fgj", "2026-10")
    assert any("不重复计分" in ln.rule for ln in lines), [ln.rule for ln in lines]
