"""Worked examples of the shipped Guangzhou rules (seed 003, §四 记分办法 and 工作指标).

Each test is a case an editor of the 信息处 could check by hand against the
notice: the figure asserted is the one the seed's table gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Decision,
    Instruct,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
)
from mailbot.core.review.ledger import Event
from mailbot.core.scoring.periods import parse_period
from mailbot.core.scoring.rules import ScoringRules, load_rules, rules_from_text
from mailbot.core.scoring.scores import (
    ExplainLine,
    ScoredItem,
    ScoreRow,
    explain,
    format_points,
    score_period,
)
from mailbot.core.submission.units import Unit

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
EDITOR = "editor@gz.gov.cn"


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@dataclass
class Desk:
    """A tiny in-memory 信息处: items and decisions, scored with real rules."""

    rules: ScoringRules
    units: list[Unit]
    items: list[ScoredItem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def item(self, unit: str, received: datetime, title: str = "", **flags: bool) -> str:
        item_id = f"2026-{len(self.items) + 1:04d}"
        self.items.append(ScoredItem(item_id, unit, received, title or f"信息{item_id}", **flags))
        return item_id

    def decide(self, item_id: str, decision: Decision, when: datetime, by: str = EDITOR) -> None:
        self.events.append(Event(item_id, len(self.events) + 1, when, by, decision))

    def rows(self, label: str) -> dict[str, ScoreRow]:
        period = parse_period(label, self.rules.calendar)
        return {r.unit_id: r for r in score_period(self.units, self.items, self.events, self.rules, period)}

    def score(self, unit: str, label: str) -> Decimal:
        return self.rows(label)[unit].score

    def explain(self, unit: str, label: str) -> list[ExplainLine]:
        period = parse_period(label, self.rules.calendar)
        return explain(unit, self.units, self.items, self.events, self.rules, period)


GZ_UNITS = [
    Unit("yuexiu", "越秀区政府", "区县", short="越秀区"),
    Unit("haizhu", "海珠区政府", "区县", short="海珠区"),
    Unit("tianhe", "天河区政府", "区县", short="天河区"),
    Unit("fgw", "市发改委", "部门A"),
    Unit("dishui", "市地税局", "部门A"),
    Unit("mzzj", "市民族宗教局", "部门B"),
    Unit("byds", "白云区地税局", "直报点A", parent="dishui"),
    Unit("gzdx", "广州大学", "直报点B"),
]


def desk() -> Desk:
    return Desk(load_rules(ROOT / "config" / "scoring.toml"), list(GZ_UNITS))


def test_suifu_xinxi_title_2_and_short_wave_1() -> None:
    d = desk()
    a = d.item("yuexiu", at(2026, 10, 8))
    b = d.item("yuexiu", at(2026, 10, 9))
    d.decide(a, Adopt("穗府信息", "标题"), at(2026, 10, 10))
    d.decide(b, Adopt("穗府信息", "短波"), at(2026, 10, 10))
    assert d.score("yuexiu", "2026-10") == 3


def test_bare_adopt_uses_the_default_publication_and_its_first_grade() -> None:
    d = desk()
    a = d.item("haizhu", at(2026, 10, 8))
    d.decide(a, Adopt(), at(2026, 10, 9))
    assert d.score("haizhu", "2026-10") == 2


def test_yaoqing_and_shouwen_chengyuebiao_5_each() -> None:
    d = desk()
    a = d.item("fgw", at(2026, 10, 8))
    b = d.item("fgw", at(2026, 10, 8))
    d.decide(a, Adopt("穗府要情"), at(2026, 10, 9))
    d.decide(b, Adopt("收文呈阅表"), at(2026, 10, 9))
    assert d.score("fgw", "2026-10") == 10


def test_city_leader_instruction_plus_8_only_where_the_rules_give_it() -> None:
    d = desk()
    xinxi = d.item("yuexiu", at(2026, 10, 8))
    yaoqing = d.item("haizhu", at(2026, 10, 8))
    zhuban = d.item("tianhe", at(2026, 10, 8))
    canyu = d.item("fgw", at(2026, 10, 8))
    d.decide(xinxi, Adopt("穗府信息", "标题"), at(2026, 10, 9))
    d.decide(yaoqing, Adopt("穗府要情"), at(2026, 10, 9))
    d.decide(zhuban, Adopt("穗府调研报告", "主办"), at(2026, 10, 9))
    d.decide(canyu, Adopt("穗府调研报告", "参与"), at(2026, 10, 9))
    for item in (xinxi, yaoqing, zhuban, canyu):
        d.decide(item, Instruct("市"), at(2026, 10, 20))
    rows = d.rows("2026-10")
    assert rows["yuexiu"].score == 2 + 8
    assert rows["haizhu"].score == 5  # 《穗府要情》: no 批示 bonus in the notice
    assert rows["tianhe"].score == 5 + 8  # 调研报告: 主办 gets the 8
    assert rows["fgw"].score == 2  # 参与 does not


def test_zhuanbao_upper_table_takes_the_highest_bonus_capped_at_30() -> None:
    d = desk()
    cases: dict[str, list[Decision]] = {
        "yuexiu": [UpperAdopt("省")],  # 8 + 8
        "haizhu": [UpperAdopt("省"), Instruct("省")],  # 8 + 15
        "tianhe": [UpperAdopt("国办")],  # 8 + 20
        "fgw": [UpperAdopt("省"), UpperAdopt("国务院"), Instruct("国务院")],  # 8 + 30
        "dishui": [
            UpperAdopt("省"),
            Instruct("省"),
            UpperAdopt("国办"),
            Instruct("国办"),
        ],  # 8 + 30, not 8 + 73
        "mzzj": [],  # 8
    }
    for unit, decisions in cases.items():
        item = d.item(unit, at(2026, 10, 1))
        d.decide(item, Adopt("穗府信息专报"), at(2026, 10, 2))
        for n, decision in enumerate(decisions):
            d.decide(item, decision, at(2026, 10, 3 + n))
    rows = d.rows("2026-10")
    got = {unit: rows[unit].score for unit in cases}
    assert got == {"yuexiu": 16, "haizhu": 23, "tianhe": 28, "fgw": 38, "dishui": 38, "mzzj": 8}


def test_zhuanbao_bonus_spread_over_months_earns_the_difference_when_it_rises() -> None:
    d = desk()
    item = d.item("yuexiu", at(2026, 9, 25))
    d.decide(item, Adopt("穗府信息专报"), at(2026, 10, 2))
    d.decide(item, UpperAdopt("省"), at(2026, 10, 20))
    d.decide(item, UpperAdopt("国务院"), at(2026, 11, 5))
    d.decide(item, Instruct("省"), at(2026, 11, 6))  # 15 < 20: adds nothing
    assert d.score("yuexiu", "2026-10") == 16
    assert d.score("yuexiu", "2026-11") == 12
    lines = [ln for ln in d.explain("yuexiu", "2026-11") if ln.points]
    assert [ln.rule for ln in lines] == ["国务院采用加分 20分（按最高加分值，封顶30分）"]


def test_upper_adoption_outside_zhuanbao_earns_nothing_but_is_explained() -> None:
    d = desk()
    item = d.item("haizhu", at(2026, 10, 1))
    d.decide(item, Adopt("穗府信息", "标题"), at(2026, 10, 2))
    d.decide(item, UpperAdopt("省"), at(2026, 10, 3))
    assert d.score("haizhu", "2026-10") == 2
    upper = [ln for ln in d.explain("haizhu", "2026-10") if ln.command == "上级采用 省"]
    assert len(upper) == 1 and upper[0].points == 0


def test_commissioned_item_plus_2_and_late_commission_minus_5() -> None:
    d = desk()
    on_time = d.item("tianhe", at(2026, 10, 5), commissioned=True)
    late = d.item("haizhu", at(2026, 10, 28), commissioned=True, commission_late=True)
    by_reply = d.item("yuexiu", at(2026, 10, 5))
    d.decide(on_time, Adopt("穗府信息", "标题"), at(2026, 11, 2))
    d.decide(late, Adopt("穗府信息", "标题"), at(2026, 11, 2))
    d.decide(by_reply, Commission(), at(2026, 10, 6))
    d.decide(by_reply, Adopt("穗府要情"), at(2026, 10, 7))
    # The penalty counts when the late answer arrived; the adoption when decided.
    assert d.score("haizhu", "2026-10") == -5
    assert d.score("haizhu", "2026-11") == 2
    assert d.score("tianhe", "2026-11") == 2 + 2
    assert d.score("yuexiu", "2026-10") == 5 + 2


def test_criticism_by_an_upper_office_minus_10_with_default_points() -> None:
    d = desk()
    item = d.item("fgw", at(2026, 10, 5))
    d.decide(item, Adopt("穗府要情"), at(2026, 10, 6))
    d.decide(item, Penalty(0, "上级批评"), at(2026, 10, 20))
    d.decide(item, Penalty(3, "信息失实"), at(2026, 10, 21))
    assert d.score("fgw", "2026-10") == 5 - 10 - 3


def test_sum_adds_two_publications_but_one_publication_counts_once() -> None:
    d = desk()
    item = d.item("tianhe", at(2026, 10, 5))
    d.decide(item, Adopt("穗府信息", "短波"), at(2026, 10, 6))
    d.decide(item, Adopt("穗府信息", "短波"), at(2026, 10, 6), by="other@gz.gov.cn")
    d.decide(item, Adopt("穗府信息", "标题"), at(2026, 10, 7))  # regraded: 1 → 2
    d.decide(item, Adopt("穗府信息专报"), at(2026, 10, 8))
    assert d.score("tianhe", "2026-10") == 2 + 8


def test_direct_report_point_keeps_its_score_and_credits_half_to_its_parent() -> None:
    d = desk()
    a = d.item("byds", at(2026, 10, 5))
    b = d.item("byds", at(2026, 10, 6))
    own = d.item("dishui", at(2026, 10, 6))
    d.decide(a, Adopt("穗府信息", "标题"), at(2026, 10, 7))
    d.decide(b, Adopt("穗府要情"), at(2026, 10, 8))
    d.decide(own, Adopt("穗府信息", "短波"), at(2026, 10, 8))
    rows = d.rows("2026-10")
    assert rows["byds"].score == 7 and rows["byds"].credited == 0
    assert rows["dishui"].own_score == 1
    assert rows["dishui"].credited == Decimal("3.5")
    assert rows["dishui"].score == Decimal("4.5")
    credit = [ln for ln in d.explain("dishui", "2026-10") if ln.item_id is None]
    assert [(ln.rule, ln.points) for ln in credit] == [("直报点 白云区地税局 得分的50%", Decimal("3.5"))]


def test_december_1_starts_a_new_assessment_year() -> None:
    d = desk()
    old = d.item("yuexiu", at(2025, 11, 20))
    new = d.item("yuexiu", at(2025, 11, 20))
    d.decide(old, Adopt("穗府要情"), at(2025, 11, 30, 23, 59))
    d.decide(new, Adopt("穗府信息", "标题"), at(2025, 12, 1, 0, 1))
    assert d.rows("2025")["yuexiu"].score == 5
    assert d.rows("2026")["yuexiu"].score == 2
    q1 = d.rows("2026-Q1")["yuexiu"]
    assert (q1.score, q1.cumulative) == (2, 2)
    assert d.rows("2025-11")["yuexiu"].cumulative == 5


def test_q1_is_december_to_february_and_sums_its_months() -> None:
    d = desk()
    for day, pub in [
        (at(2025, 12, 10), "穗府要情"),
        (at(2026, 1, 10), "穗府要情"),
        (at(2026, 2, 27), "穗府信息专报"),
    ]:
        item = d.item("haizhu", day)
        d.decide(item, Adopt(pub), day)
    late = d.item("haizhu", at(2026, 2, 27))
    d.decide(late, Adopt("穗府要情"), at(2026, 3, 1, 0, 0))  # Q2
    months = [d.score("haizhu", m) for m in ("2025-12", "2026-01", "2026-02")]
    q1 = d.rows("2026-Q1")["haizhu"]
    assert months == [5, 5, 8] and q1.score == 18
    assert q1.quarter_target == 18 and q1.target == 72
    assert q1.completion == Decimal("0.25")
    assert d.rows("2026-03")["haizhu"].cumulative == 23


def test_points_count_in_the_month_of_the_decision_not_of_submission() -> None:
    d = desk()
    item = d.item("mzzj", at(2026, 10, 30))
    d.decide(item, Adopt("穗府要情"), at(2026, 11, 2))
    october, november = d.rows("2026-10")["mzzj"], d.rows("2026-11")["mzzj"]
    assert (october.submitted, october.adopted, october.score) == (1, 0, 0)
    assert (november.submitted, november.adopted, november.score) == (0, 1, 5)
    assert november.target == 48 and november.completion == Decimal("0.1042")


def test_ranks_within_series_share_equal_scores() -> None:
    d = desk()
    for unit, pub in [
        ("yuexiu", "穗府要情"),
        ("haizhu", "穗府要情"),
        ("tianhe", "穗府信息"),
        ("fgw", "穗府信息"),
    ]:
        item = d.item(unit, at(2026, 10, 3))
        d.decide(item, Adopt(pub), at(2026, 10, 4))
    rows = d.rows("2026-10")
    assert [rows[u].rank for u in ("yuexiu", "haizhu", "tianhe")] == [1, 1, 3]
    assert rows["fgw"].rank == 1 and rows["dishui"].rank == 2  # 部门A is ranked on its own
    order = [
        r.series
        for r in score_period(d.units, d.items, d.events, d.rules, parse_period("2026-10", d.rules.calendar))
    ]
    assert order == sorted(order, key=["区县", "部门A", "部门B", "直报点A", "直报点B"].index)


def test_undo_removes_points_from_the_month_the_decision_was_made() -> None:
    d = desk()
    item = d.item("tianhe", at(2026, 10, 3))
    d.decide(item, Adopt("穗府信息", "标题"), at(2026, 10, 4))
    d.decide(item, Instruct("市"), at(2026, 10, 5))
    assert d.score("tianhe", "2026-10") == 10
    d.decide(item, Undo(), at(2026, 11, 3))  # undoes the 批示 only
    assert d.score("tianhe", "2026-10") == 2
    assert d.score("tianhe", "2026-11") == 0


def test_rejection_after_adoption_takes_the_points_back_when_decided() -> None:
    d = desk()
    item = d.item("yuexiu", at(2026, 10, 3))
    d.decide(item, Adopt("穗府要情"), at(2026, 10, 4))
    d.decide(item, Reject("与已采用信息重复"), at(2026, 11, 4), by="chief@gz.gov.cn")
    assert d.score("yuexiu", "2026-10") == 5
    november = d.rows("2026-11")["yuexiu"]
    assert (november.score, november.cumulative, november.adopted) == (-5, 0, 0)


def test_explanation_lines_sum_to_the_score_and_say_which_rule() -> None:
    d = desk()
    a = d.item("dishui", at(2026, 10, 3), "市地税局推行电子发票")
    b = d.item("byds", at(2026, 10, 3), "白云区地税局便民办税")
    d.decide(a, Adopt("穗府信息", "标题"), at(2026, 10, 4))
    d.decide(a, Instruct("市"), at(2026, 10, 5))
    d.decide(a, Adopt("穗府信息专报"), at(2026, 10, 6))
    d.decide(a, UpperAdopt("国办"), at(2026, 10, 7))
    d.decide(b, Adopt("穗府要情"), at(2026, 10, 8))
    d.decide(a, Penalty(0, "上级批评"), at(2026, 10, 9))
    lines = d.explain("dishui", "2026-10")
    assert (
        sum(ln.points for ln in lines) == d.score("dishui", "2026-10") == 2 + 8 + 8 + 20 - 10 + Decimal("2.5")
    )
    rules = [ln.rule for ln in lines]
    assert rules == [
        "《穗府信息》采用（标题） 2分",
        "市领导批示 +8分",
        "《穗府信息专报》采用 8分",
        "国务院采用加分 20分（封顶30分）",
        "扣分（上级批评） -10分",
        "直报点 白云区地税局 得分的50%",
    ]
    first = lines[0]
    assert (first.item_id, first.title, first.command, first.by) == (
        a,
        "市地税局推行电子发票",
        "采用 穗府信息 标题",
        EDITOR,
    )
    assert format_points(lines[-1].points) == "2.5"


def test_regrading_research_report_from_host_to_participant_drops_the_instruction_bonus() -> None:
    d = desk()
    item = d.item("tianhe", at(2026, 10, 3))
    d.decide(item, Adopt("穗府调研报告", "主办"), at(2026, 10, 4))
    d.decide(item, Instruct("市"), at(2026, 10, 5))
    assert d.score("tianhe", "2026-10") == 13
    d.decide(item, Adopt("穗府调研报告", "参与"), at(2026, 11, 2))
    assert d.score("tianhe", "2026-11") == -11
    assert d.rows("2026")["tianhe"].score == 2


# -- a new rule set in the middle of the year ---------------------------------------------------


def desk_with_new_rules_from_june() -> Desk:
    """Guangzhou's rules, and from 2026-06-01 a revised set: 穗府要情 6 points, 标题 3 points."""
    text = (ROOT / "config" / "scoring.toml").read_text(encoding="utf-8")
    head, ruleset = text.split("[[ruleset]]\n", 1)
    revised = (
        ruleset.replace("effective_from = 2005-12-20", "effective_from = 2026-06-01")
        .replace('name = "穗府要情"\npoints = 5', 'name = "穗府要情"\npoints = 6')
        .replace('"标题" = 2', '"标题" = 3')
    )
    assert revised.count("2026-06-01") == 1 and "points = 6" in revised and '"标题" = 3' in revised
    rules = rules_from_text(f"{head}[[ruleset]]\n{ruleset}[[ruleset]]\n{revised}")
    return Desk(rules, list(GZ_UNITS))


def test_a_rejection_under_new_rules_takes_back_what_the_adoption_earned_under_the_old() -> None:
    d = desk_with_new_rules_from_june()
    a = d.item("yuexiu", at(2026, 5, 20))
    d.decide(a, Adopt("穗府要情"), at(2026, 5, 25))
    d.decide(a, Reject("与事实不符"), at(2026, 6, 2))
    assert d.score("yuexiu", "2026-05") == 5  # the rules in force in May
    assert d.score("yuexiu", "2026-06") == -5  # not -6: it takes back what was earned
    assert d.rows("2026")["yuexiu"].score == 0  # a rejected item is worth nothing


def test_a_regrade_under_new_rules_is_settled_against_what_was_earned() -> None:
    d = desk_with_new_rules_from_june()
    a = d.item("haizhu", at(2026, 5, 18))
    d.decide(a, Adopt("穗府信息", "标题"), at(2026, 5, 20))
    d.decide(a, Adopt("穗府信息", "短波"), at(2026, 6, 5))
    assert d.score("haizhu", "2026-05") == 2
    assert d.score("haizhu", "2026-06") == -1
    assert d.rows("2026")["haizhu"].score == 1  # 短波 is 1 point under both sets


def test_a_bonus_after_new_rules_does_not_revalue_the_earlier_adoption() -> None:
    d = desk_with_new_rules_from_june()
    a = d.item("tianhe", at(2026, 5, 18))
    d.decide(a, Adopt("穗府信息", "标题"), at(2026, 5, 20))
    d.decide(a, Instruct("市"), at(2026, 6, 10))
    b = d.item("tianhe", at(2026, 6, 11))
    d.decide(b, Adopt("穗府信息", "标题"), at(2026, 6, 12))
    assert d.score("tianhe", "2026-05") == 2
    assert d.score("tianhe", "2026-06") == 8 + 3  # the 批示 alone, and a new 标题 at 3
    lines = [ln for ln in d.explain("tianhe", "2026-06") if ln.item_id == a]
    assert [ln.points for ln in lines] == [8], lines


def test_a_missed_commission_penalty_is_no_submission() -> None:
    d = desk()
    d.items.append(
        ScoredItem("约稿#1:gzdx", "gzdx", at(2026, 10, 16, 0), "约稿#1《防汛》未报送", submitted=False)
    )
    d.decide("约稿#1:gzdx", Penalty(0, "约稿超时"), at(2026, 10, 16, 0))
    row = d.rows("2026-10")["gzdx"]
    assert (row.score, row.submitted, row.adoption_rate) == (-5, 0, None)


def test_a_late_answer_is_penalised_on_the_deadline_not_on_arrival() -> None:
    # Due 10-20, answered 11-03: the −5 stays in October, where the missed 约稿 already showed
    # it in October's bulletin; November gets only what the answer earns.
    d = desk()
    a = d.item("yuexiu", at(2026, 11, 3), commissioned=True, commission_late=True)
    d.items[-1] = ScoredItem(a, "yuexiu", at(2026, 11, 3), "迟报的约稿", commissioned=True,
                             commission_late=True, commission_due=at(2026, 10, 21, 0))  # fmt: skip
    d.decide(a, Adopt("穗府信息", "标题"), at(2026, 11, 5))
    assert d.score("yuexiu", "2026-10") == -5
    assert d.score("yuexiu", "2026-11") == 2  # no 约稿 bonus for a late answer
