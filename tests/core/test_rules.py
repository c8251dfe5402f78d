"""Loading scoring.toml: the shipped files load, and every mistake names its key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from mailbot.core.errors import ConfigError, ScoringRulesError
from mailbot.core.scoring.rules import load_rules, rules_from_text

ROOT = Path(__file__).resolve().parents[2]
GZ = ROOT / "config" / "scoring.toml"
COUNTY = ROOT / "config" / "profiles" / "county.toml"
CITY = ROOT / "config" / "profiles" / "city.toml"

MINIMAL = """
[calendar]
year_start = "12-01"

[[ruleset]]
effective_from = 2020-01-01
levels = ["市", "省"]
default_publication = "信息"

[[ruleset.publication]]
name = "信息"
grades = { "标题" = 2, "短波" = 1 }
"""


def test_shipped_guangzhou_rules_hold_the_seed_figures() -> None:
    rules = load_rules(GZ)
    rs = rules.rulesets[0]
    assert rules.calendar.year_start_month == 12 and str(rules.calendar.tz) == "Asia/Shanghai"
    assert rs.effective_from == date(2005, 12, 20) and rs.combine == "sum"
    table = {p.name: (p.points, tuple((g.name, g.points) for g in p.grades)) for p in rs.publications}
    assert table == {
        "穗府信息": (0, (("标题", 2), ("短波", 1))),
        "穗府要情": (5, ()),
        "收文呈阅表": (5, ()),
        "穗府调研报告": (0, (("主办", 5), ("参与", 2))),
        "穗府信息专报": (8, ()),
    }
    targets = {s.name: (s.quarter_target, s.year_target, s.parent_credit) for s in rs.series}
    assert targets == {
        "区县": (18, 72, 0),
        "部门A": (18, 72, 0),
        "部门B": (12, 48, 0),
        "直报点A": (None, 12, Decimal("0.5")),
        "直报点B": (None, 6, Decimal("0.5")),
    }
    assert rs.commission_bonus == 2 and rs.penalty("约稿超时") == 5 and rs.penalty("上级批评") == 10
    zhuanbao = rs.bonuses[1]
    assert zhuanbao.cap == 30 and zhuanbao.combine == "max"


def test_profiles_load_with_their_series() -> None:
    county = load_rules(COUNTY).rulesets[0]
    assert county.combine == "sum" and [s.name for s in county.series] == ["街镇乡", "县直部门"]
    city = load_rules(CITY).rulesets[0]
    assert city.combine == "max"
    assert {s.name: s.year_target for s in city.series} == {
        "县区A": 700,
        "县区B": 500,
        "市直A": 200,
        "市直B": 100,
        "市直C": 60,
        "开发区": 200,
        "驻外办": 50,
        "直报点": 50,
    }
    assert city.series_rules("直报点") is not None and city.series_rules("直报点").parent_credit == 1  # type: ignore[union-attr]


def test_vocabulary_fields_for_the_reply_parser() -> None:
    voc = load_rules(GZ).rulesets[0].vocabulary_fields()
    assert voc["publications"]["穗府信息"] == ("标题", "短波")
    assert voc["publications"]["穗府要情"] == ()
    assert voc["default_publication"] == "穗府信息"
    assert voc["instruct_levels"] == ("市", "省", "国务院")
    assert voc["upper_levels"] == ("省", "国务院")
    assert voc["aliases"]["国办"] == "国务院" and voc["aliases"]["专报"] == "穗府信息专报"


def test_lookups_accept_traditional_and_aliases() -> None:
    rs = load_rules(GZ).rulesets[0]
    assert rs.publication("穗府資訊") is None  # 資訊 is not 信息: only script is folded
    assert rs.publication("穗府調研報告").name == "穗府调研报告"  # type: ignore[union-attr]
    assert rs.publication("《穗府信息专报》").name == "穗府信息专报"  # type: ignore[union-attr]
    assert rs.publication(None).name == "穗府信息"  # type: ignore[union-attr]
    assert rs.level("國辦") == "国务院" and rs.level("省政府辦公廳") == "省" and rs.level("县") is None


def test_rule_set_in_force_by_date() -> None:
    second = MINIMAL.split('year_start = "12-01"')[1].replace("2020-01-01", "2024-06-01")
    text = MINIMAL + second.replace('"标题" = 2', '"标题" = 3')
    rules = rules_from_text(text)
    assert [rs.effective_from for rs in rules.rulesets] == [date(2020, 1, 1), date(2024, 6, 1)]
    assert rules.ruleset_on(date(2024, 5, 31)).publications[0].grades[0].points == 2
    assert rules.ruleset_on(date(2024, 6, 1)).publications[0].grades[0].points == 3
    assert rules.ruleset_on(date(2019, 1, 1)).effective_from == date(2020, 1, 1)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (("levels = [", 'colour = "red"\nlevels = ['), "ruleset[0].colour"),
        (("levels = [", 'commission_bonus_on_time_only = "yes"\nlevels = ['), "ruleset[0].commission_bonus_on_time_only"),
        (('"标题" = 2', '"标题" = "two"'), "ruleset[0].publication[0].grades.标题"),
        (('"标题" = 2', '"标题" = -2'), "ruleset[0].publication[0].grades.标题"),
        (('"标题" = 2', '"标题" = true'), "ruleset[0].publication[0].grades.标题"),
        (('default_publication = "信息"', 'default_publication = "快报"'), "ruleset[0].default_publication"),
        (("effective_from = 2020-01-01", 'effective_from = "2020-01-01"'), "ruleset[0].effective_from"),
        (('year_start = "12-01"', 'year_start = "12-15"'), "calendar.year_start"),
        (('year_start = "12-01"', 'year_start = "12-01"\ntimezone = "Mars/Base"'), "calendar.timezone"),
        (('name = "信息"', 'name = "信息"\nlevel = "县"'), "ruleset[0].publication[0].level"),
        (
            ('grades = { "标题" = 2, "短波" = 1 }', 'grades = { "标题" = 2 }\npoints = 3'),
            "ruleset[0].publication[0].points",
        ),
        (('levels = ["市", "省"]', 'levels = ["市", "省"]\ncombine = "avg"'), "ruleset[0].combine"),
        (
            ('levels = ["市", "省"]', 'levels = ["市", "省"]\nupper_points = { "国务院" = 20 }'),
            "ruleset[0].upper_points.国务院",
        ),
        (
            ('levels = ["市", "省"]', 'levels = ["市", "省"]\nlate_commission_penalty = "迟报"'),
            "ruleset[0].late_commission_penalty",
        ),
        (
            ('levels = ["市", "省"]', 'levels = ["市", "省"]\nlevel_aliases = { "国办" = "国务院" }'),
            "ruleset[0].level_aliases.国办",
        ),
    ],
)
def test_mistakes_name_the_key(change: tuple[str, str], key: str) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(ScoringRulesError) as err:
        rules_from_text(MINIMAL.replace(old, new), "office/scoring.toml")
    assert err.value.key == key
    assert err.value.file == "office/scoring.toml"
    assert isinstance(err.value, ConfigError)


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('[ruleset.series."区县"]\nparent_credit = 1.5', "ruleset[0].series.区县.parent_credit"),
        ('[ruleset.series."区县"]\nparent_credit = -0.5', "ruleset[0].series.区县.parent_credit"),
        ('[ruleset.series."区县"]\nyear_targt = 72', "ruleset[0].series.区县.year_targt"),
        ('[ruleset.series."区县"]\nmonth_min = 2.5', "ruleset[0].series.区县.month_min"),
        (
            '[[ruleset.bonus]]\nname = "批示"\nadopted_in = ["要情"]\ninstruct = { "市" = 8 }',
            "ruleset[0].bonus[0].adopted_in[0]",
        ),
        (
            '[[ruleset.bonus]]\nname = "批示"\nadopted_in = ["信息:头条"]\ninstruct = { "市" = 8 }',
            "ruleset[0].bonus[0].adopted_in[0]",
        ),
        ('[[ruleset.bonus]]\nname = "批示"\ninstruct = { "县" = 8 }', "ruleset[0].bonus[0].instruct.县"),
        ('[[ruleset.bonus]]\nname = "批示"\ncap = 30', "ruleset[0].bonus[0]"),
        ('[[ruleset.publication]]\nname = "信息"\npoints = 1', "ruleset[0].publication[1].name"),
    ],
)
def test_mistakes_in_tables_name_the_key(extra: str, key: str) -> None:
    with pytest.raises(ScoringRulesError) as err:
        rules_from_text(MINIMAL + "\n" + extra)
    assert err.value.key == key


def test_syntax_error_and_missing_file() -> None:
    with pytest.raises(ScoringRulesError) as err:
        rules_from_text("[[ruleset]\n")
    assert err.value.key == "(syntax)"
    with pytest.raises(ScoringRulesError) as err:
        load_rules(Path("/nonexistent/scoring.toml"))
    assert err.value.key == "scoring.file"
