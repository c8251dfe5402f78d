"""The bulletin's decision lists on plain values: an adoption in an upper office's own publication
is an upper-office adoption as much as a 上级采用 reply."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import mailbot
from mailbot.core.bulletin.adoptions import Entries, Listed, entries, upper_level
from mailbot.core.review.decisions import Adopt, Decision, Instruct, Undo, UpperAdopt
from mailbot.core.review.ledger import Event
from mailbot.core.scoring.periods import parse_period
from mailbot.core.scoring.rules import load_rules
from mailbot.core.scoring.scores import ScoredItem, event_points

DEFAULTS = Path(mailbot.__file__).parent / "defaults"
CITY = load_rules(DEFAULTS / "profiles" / "city.toml")  # 市 publications, and the 省's and 国办's own
GUANGZHOU = load_rules(DEFAULTS / "scoring.toml")  # the 市's publications only
OCTOBER = parse_period("2026-10", CITY.calendar)
AT = dt.datetime(2026, 10, 10, 2, 0, tzinfo=dt.UTC)
EDITOR = "editor@example.org"


def item(n: int, status: str = "adopted") -> Listed:
    return Listed(f"2026-{n:04d}", "越秀区政府", f"信息{n}", status)


def event(n: int, seq: int, decision: Decision, at: dt.datetime = AT) -> Event:
    return Event(f"2026-{n:04d}", seq, at, EDITOR, decision)


def listed(events: list[Event], *items: Listed) -> Entries:
    def points(item_id: str) -> Mapping[int, float]:
        scored = ScoredItem(item_id, "QX01", AT, "")
        own = [e for e in events if e.item_id == item_id]
        return {seq: float(p) for seq, p in event_points(scored, own, CITY).items()}

    return entries(events, {i.item_id: i for i in items}, CITY, OCTOBER, points)


def test_an_adoption_in_an_upper_offices_publication_names_that_office() -> None:
    rs = CITY.ruleset_at(AT)
    assert upper_level(Adopt("省专报信息", "信息"), rs, "信息快报") == "省"
    assert upper_level(Adopt("国办要情"), rs, "信息快报") == "国务院"
    assert upper_level(Adopt("信息快报", "信息"), rs, "信息快报") is None  # the office's own
    assert upper_level(Adopt(None), rs, "信息快报") is None  # a bare 采用: the default publication
    assert upper_level(Adopt("不存在的刊物"), rs, "信息快报") is None
    # Where every publication is the office's own, no adoption is an upper one.
    assert upper_level(Adopt("穗府信息专报"), GUANGZHOU.ruleset_at(AT), "穗府信息") is None


def test_the_bulletin_lists_it_both_as_adopted_and_as_an_upper_adoption() -> None:
    events = [
        event(1, 1, Adopt("省专报信息", "信息")),
        event(2, 2, Adopt("信息快报", "信息")),
        event(3, 3, UpperAdopt("国务院")),
        event(4, 4, Instruct("省")),
    ]
    found = listed(events, item(1), item(2), item(3), item(4, "pending"))
    assert [(a.item_id, a.publication, a.grade, a.points) for a in found.adopted] == [
        ("2026-0001", "省专报信息", "信息", Decimal(30)),
        ("2026-0002", "信息快报", "信息", Decimal(10)),
    ]
    assert [(u.item_id, u.level) for u in found.uppers] == [("2026-0001", "省"), ("2026-0003", "国务院")]
    assert [(i.item_id, i.level) for i in found.instructions] == [("2026-0004", "省")]


def test_a_bare_adoption_is_listed_in_the_default_publication() -> None:
    found = listed([event(1, 1, Adopt(None, "信息"))], item(1))
    assert [(a.publication, a.points) for a in found.adopted] == [("信息快报", Decimal(10))]
    assert found.uppers == []


def test_undone_superseded_unknown_and_other_months_decisions_are_not_listed() -> None:
    events = [
        event(1, 1, Adopt("省专报信息", "信息")),
        event(1, 2, Undo()),  # 撤销 by the same editor: the adoption is gone
        event(2, 3, Adopt("国办要情")),  # the item was replaced by a 更正
        event(9, 4, Adopt("国办要情")),  # an item the bulletin does not know
        event(3, 5, Adopt("国办要情"), at=dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.UTC)),
    ]
    found = listed(events, item(1), item(2, "superseded"), item(3))
    assert (found.adopted, found.uppers, found.instructions) == ([], [], [])


def test_decisions_are_listed_in_the_order_they_took_effect() -> None:
    late, early = AT + dt.timedelta(days=5), AT - dt.timedelta(days=5)
    events = [event(1, 1, UpperAdopt("省"), at=late), event(2, 2, Adopt("国办要情"), at=early)]
    found = listed(events, item(1), item(2))
    assert [u.item_id for u in found.uppers] == ["2026-0002", "2026-0001"]
