"""Worked examples of the city rules (seed 001, 政务信息通报范文6; config/profiles/city.toml).

One table of publications across the city, the province and the State
Council; 批示 and 约稿 bonuses per level; 就高不就低; direct-report points
credited in full to their county.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from mailbot.core.review.decisions import Adopt, Commission, Decision, Instruct, Penalty, UpperAdopt
from mailbot.core.scoring.rules import load_rules, rules_from_text
from mailbot.core.submission.units import Unit
from tests.core.test_scoring_guangzhou import Desk, at

PROFILE = Path(__file__).resolve().parents[2] / "config" / "profiles" / "city.toml"

CITY_UNITS = [
    Unit("xa", "甲县人民政府", "县区A"),
    Unit("xb", "乙县人民政府", "县区A"),
    Unit("xc", "丙区人民政府", "县区B"),
    Unit("sa", "市发展改革委", "市直A"),
    Unit("sb", "市民政局", "市直B"),
    Unit("kfq", "市开发区管委会", "开发区"),
    Unit("zd", "甲县某镇直报点", "直报点", parent="xa"),
]


def desk() -> Desk:
    return Desk(load_rules(PROFILE), list(CITY_UNITS))


def one(d: Desk, unit: str, *decisions: Decision, commissioned: bool = False) -> str:
    """An item of `unit` received on 2026-10-08 and decided on 2026-10-10 onwards."""
    item = d.item(unit, at(2026, 10, 8), commissioned=commissioned)
    for n, decision in enumerate(decisions):
        d.decide(item, decision, at(2026, 10, 10 + n))
    return item


def test_city_publications_5_5_10_5() -> None:
    d = desk()
    for pub in ("情况", "信息参考", "信息快报", "信息摘报"):
        one(d, "xa", Adopt(pub))
    assert d.score("xa", "2026-10") == 25


def test_research_items_get_20_more() -> None:
    d = desk()
    one(d, "xa", Adopt("情况", "调研"))
    one(d, "xb", Adopt("信息快报", "调研"))
    one(d, "xc", Adopt("省专报信息", "调研"))
    rows = d.rows("2026-10")
    assert (rows["xa"].score, rows["xb"].score, rows["xc"].score) == (25, 30, 50)


def test_province_table() -> None:
    d = desk()
    one(d, "sa", Adopt("省信息简报"))
    one(d, "sa", Adopt("省共享信息"))
    one(d, "sa", Adopt("省专报信息"))
    one(d, "sa", Adopt("省领导批示与反馈"))
    one(d, "sa", Adopt("省信息摘报"))
    assert d.score("sa", "2026-10") == 10 + 6 + 30 + 10 + 10


def test_state_council_table() -> None:
    d = desk()
    for pub in ("国办要情", "国办综合", "国办送阅", "国办专报信息", "国办信息参考", "政务情况交流"):
        one(d, "xb", Adopt(pub))
    assert d.score("xb", "2026-10") == 40 * 3 + 80 + 120 + 200


def test_highest_adoption_only_and_each_rise_counts_in_its_month() -> None:
    d = desk()
    item = d.item("xa", at(2026, 10, 8))
    d.decide(item, Adopt("信息快报"), at(2026, 10, 9))
    d.decide(item, Adopt("省专报信息"), at(2026, 11, 9))
    d.decide(item, Adopt("国办专报信息"), at(2026, 12, 9))
    d.decide(item, Adopt("省共享信息"), at(2026, 12, 10))  # lower: adds nothing
    assert [d.score("xa", m) for m in ("2026-10", "2026-11", "2026-12")] == [10, 20, 50]
    assert d.rows("2026")["xa"].score == 80
    zero = [ln for ln in d.explain("xa", "2026-12") if ln.command == "采用 省共享信息"]
    assert [ln.points for ln in zero] == [0]


def test_leader_instructions_add_on_top_of_the_highest_adoption() -> None:
    d = desk()
    one(d, "xb", Adopt("信息快报"), Instruct("市"), Adopt("省信息简报"), Instruct("省"))
    one(d, "xc", Adopt("国办要情"), Instruct("国务院"))
    rows = d.rows("2026-10")
    assert rows["xb"].score == 10 + 20 + 40
    assert rows["xc"].score == 40 + 80


def test_commission_bonus_by_adopting_level_inside_the_max() -> None:
    d = desk()
    one(d, "sa", Adopt("信息快报"), commissioned=True)  # 10 + 5
    one(d, "sb", Adopt("省信息简报"), commissioned=True)  # 10 + 10
    one(d, "kfq", Commission(), Adopt("国办要情"))  # 40 + 15
    one(d, "xc", Adopt("信息快报"), Adopt("省共享信息"), commissioned=True)  # max(10 + 5, 6 + 10)
    rows = d.rows("2026-10")
    got = {u: rows[u].score for u in ("sa", "sb", "kfq", "xc")}
    assert got == {"sa": 15, "sb": 20, "kfq": 55, "xc": 16}


def test_bare_upper_adoption_scores_the_level_default() -> None:
    d = desk()
    one(d, "sa", UpperAdopt("省政府办公厅"))
    one(d, "sb", UpperAdopt("国办"))
    rows = d.rows("2026-10")
    assert (rows["sa"].score, rows["sb"].score) == (10, 40)


def test_direct_report_point_credited_in_full_to_its_county() -> None:
    d = desk()
    one(d, "zd", Adopt("信息快报"), Adopt("国办要情"))
    one(d, "xa", Adopt("情况"))
    rows = d.rows("2026-10")
    assert rows["zd"].score == 40
    assert (rows["xa"].own_score, rows["xa"].credited, rows["xa"].score) == (5, 40, 45)
    assert rows["zd"].target == 50 and rows["zd"].completion == Decimal("0.8")


def test_yearly_targets_and_completion() -> None:
    d = desk()
    one(d, "xc", Adopt("国办政务情况交流"), Instruct("国务院"))
    row = d.rows("2026-10")["xc"]
    assert (row.target, row.cumulative, row.completion) == (500, 280, Decimal("0.56"))
    assert d.rows("2026-10")["sb"].target == 100


def test_ranks_with_ties_in_county_series() -> None:
    d = desk()
    one(d, "xa", Adopt("省共享信息"))
    one(d, "xb", Adopt("省共享信息"))
    rows = d.rows("2026-10")
    assert (rows["xa"].rank, rows["xb"].rank) == (1, 1)
    assert rows["xc"].rank == 1  # 县区B is ranked on its own


def test_max_never_exceeds_sum_on_the_same_decisions() -> None:
    summed = Desk(
        rules_from_text(PROFILE.read_text(encoding="utf-8").replace('combine = "max"', 'combine = "sum"')),
        list(CITY_UNITS),
    )
    maxed = desk()
    for d in (summed, maxed):
        one(d, "xa", Adopt("信息快报"), Adopt("省专报信息"), Instruct("省"), Adopt("国办要情"))
    assert maxed.score("xa", "2026-10") == 40 + 40
    assert summed.score("xa", "2026-10") == 10 + 30 + 40 + 40


def test_explanation_sums_to_score_with_penalty() -> None:
    d = desk()
    one(d, "xa", Adopt("信息快报", "调研"), Adopt("省专报信息"), Instruct("市"), Penalty(10, "迟报"))
    one(d, "zd", Adopt("省共享信息"))
    lines = d.explain("xa", "2026-10")
    assert [(ln.rule, ln.points) for ln in lines] == [
        ("《信息快报》采用（调研） 30分", 30),
        ("《省专报信息》采用（信息） 30分，就高不就低，不重复计分", 0),
        ("市领导批示 +20分", 20),
        ("扣分（迟报） -10分", -10),
        ("直报点 甲县某镇直报点 得分的100%", 6),
    ]
    assert sum(ln.points for ln in lines) == d.score("xa", "2026-10") == 46


def test_a_late_commission_keeps_its_bonus_the_seed_sets_no_deadline() -> None:
    # 范文6 (五): 约稿信息被市政府办公室采用的每条另加5分 — adopted, not "adopted on time".
    d = desk()
    item = d.item("sa", at(2026, 10, 8), commissioned=True, commission_late=True)
    d.decide(item, Adopt("信息快报", "信息"), at(2026, 10, 10))
    assert d.score("sa", "2026-10") == 10 + 5


def test_the_on_time_condition_is_the_rules_choice() -> None:
    text = PROFILE.read_text(encoding="utf-8").replace(
        "commission_bonus_on_time_only = false", "commission_bonus_on_time_only = true"
    )
    d = Desk(rules_from_text(text), list(CITY_UNITS))
    item = d.item("sa", at(2026, 10, 8), commissioned=True, commission_late=True)
    d.decide(item, Adopt("信息快报", "信息"), at(2026, 10, 10))
    assert d.score("sa", "2026-10") == 10


def test_a_direct_report_point_with_two_parents_credits_both() -> None:
    # 范文6 (六): 直报点得分计入其所在县(市、区)政府办公室和对口上级部门.
    units = [u if u.id != "zd" else Unit("zd", "甲县某镇直报点", "直报点", parent="xa", other_parents=("sa",))
             for u in CITY_UNITS]  # fmt: skip
    d = Desk(load_rules(PROFILE), units)
    one(d, "zd", Adopt("信息快报"))
    rows = d.rows("2026-10")
    assert rows["zd"].score == 10
    assert (rows["xa"].credited, rows["sa"].credited) == (10, 10)
    assert rows["xb"].credited == 0
    lines = d.explain("sa", "2026-10")
    assert [ln.points for ln in lines] == [10] and "甲县某镇直报点" in lines[0].title
