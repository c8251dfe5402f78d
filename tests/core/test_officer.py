"""The officer's view of their item, on plain values: what a notice would say, and its change lines.

A notice goes out when what the officer sees changes (status, where adopted, reason, points),
not only the status; each line names a decision added or cancelled with the points it earned.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import mailbot
from mailbot.core.review.decisions import (
    Adopt,
    Decision,
    Forward,
    Instruct,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
)
from mailbot.core.review.ledger import Event, item_status
from mailbot.core.review.officer import OfficerView, is_news, officer_changes, officer_label, officer_view
from mailbot.core.scoring.rules import load_rules
from mailbot.core.scoring.scores import ScoredItem

RULES = load_rules(Path(mailbot.__file__).parent / "defaults" / "scoring.toml")
AT = dt.datetime(2026, 11, 3, 2, 0, tzinfo=dt.UTC)
ITEM = ScoredItem("2026-0001", "QX01", AT, "一条信息")


def _events(*decisions: Decision) -> list[Event]:
    return [
        Event(ITEM.id, n, AT + dt.timedelta(minutes=n), "editor@example.org", d)
        for n, d in enumerate(decisions, 1)
    ]


def _view(*decisions: Decision) -> OfficerView:
    events = _events(*decisions)
    return officer_view(item_status(events), ITEM, events, RULES)


def test_upper_adoption_is_news_even_when_it_scores_nothing() -> None:
    before = _view(Adopt("穗府信息", "标题"))
    after = _view(Adopt("穗府信息", "标题"), UpperAdopt("省"))
    assert after.points == before.points == 2
    assert after != before and after.where == ("《穗府信息》采用（标题）", "省采用")
    assert officer_changes(before, after, {2}, RULES) == ["新增：省采用，不计分"]


def test_upper_adoption_of_a_special_report_names_its_bonus() -> None:
    before = _view(Adopt("专报"))
    after = _view(Adopt("专报"), UpperAdopt("省"))
    assert (before.points, after.points) == (8, 16)
    assert officer_changes(before, after, {2}, RULES) == ["新增：省采用 +8分"]


def test_repeats_and_a_new_reason_are_judged_by_what_the_officer_sees() -> None:
    assert _view(Adopt("穗府信息", "标题"), Adopt("穗府信息", "标题")) == _view(Adopt("穗府信息", "标题"))
    assert _view(Reject("重复"), Reject("重复")) == _view(Reject("重复"))
    assert _view(Reject("重复"), Reject("请补充数据")).reason == "请补充数据"
    assert _view(Reject("重复"), Reject("请补充数据")) != _view(Reject("重复"))
    # 撤销 of a decision that changed nothing the officer sees is no news either.
    assert _view(Adopt("穗府信息"), Adopt("穗府信息"), Undo()) == _view(Adopt("穗府信息"))


def test_an_instruction_on_an_adopted_item_is_a_line_with_its_points() -> None:
    before = _view(Adopt("穗府信息", "标题"))
    after = _view(Adopt("穗府信息", "标题"), Instruct("市"))
    assert (before.status, after.status) == ("adopted", "adopted")
    assert (before.points, after.points) == (2, 10)
    assert is_news(before, after)
    assert officer_changes(before, after, {2}, RULES) == ["新增：市领导批示 +8分"]


def test_an_undone_instruction_is_a_line_with_the_points_it_had_earned() -> None:
    before = _view(Adopt("穗府信息", "标题"), Instruct("市"))
    after = _view(Adopt("穗府信息", "标题"), Instruct("市"), Undo())
    assert after.points == 2
    assert officer_changes(before, after, {3}, RULES) == ["撤销：市领导批示（原计 +8分）"]


def test_a_rejection_tells_its_reason_and_scores_nothing() -> None:
    before = _view()
    after = _view(Reject("重复"))
    assert (before.status, after.status, after.reason) == ("pending", "rejected", "重复")
    assert after.where == ()
    assert officer_changes(before, after, {1}, RULES) == ["新增：不采用（重复），不计分"]


def test_a_rejection_wipes_where_the_item_had_been_adopted() -> None:
    view = _view(Adopt("穗府信息", "标题"), Reject("重复"))
    assert (view.status, view.where, view.points) == ("rejected", (), 0)


def test_an_item_the_officer_is_not_told_of_is_never_news() -> None:
    gone = ScoredItem(ITEM.id, ITEM.unit_id, AT, ITEM.title, scored=False)
    before = officer_view("pending", gone, [], RULES)
    after = officer_view("superseded", gone, [], RULES)
    assert after != before and not is_news(before, after)
    assert after.points is None  # an unscored item shows no points at all
    assert not is_news(_view(Adopt("穗府信息")), _view(Adopt("穗府信息")))


def test_decisions_are_named_as_the_rules_spell_them() -> None:
    rs = RULES.ruleset_at(AT)
    assert officer_label(Adopt("专报"), rs) == "《穗府信息专报》采用"  # an alias, written out
    assert officer_label(Adopt("穗府信息", "短波"), rs) == "《穗府信息》采用（短波）"
    assert officer_label(Instruct("市领导"), rs) == "市领导批示"
    assert officer_label(UpperAdopt("省政府"), rs) == "省采用"
    assert officer_label(Forward("国办"), rs) == "上报国务院"
    assert officer_label(Penalty(5, "约稿超时"), rs) == "扣分（约稿超时）"
