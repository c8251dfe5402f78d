"""The 约稿 rules on plain values: deadline, linking a tagged item, lateness, each unit's state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import mailbot
from mailbot.core.review.decisions import Adopt
from mailbot.core.review.ledger import Event
from mailbot.core.scoring import commission
from mailbot.core.scoring.commission import Answer, Link, Request, Response
from mailbot.core.scoring.rules import load_rules
from mailbot.core.scoring.scores import ScoredItem, event_points, item_points
from mailbot.core.submission.units import Unit, UnitDirectory

OFFICE = ZoneInfo("Asia/Shanghai")
RULES = load_rules(Path(mailbot.__file__).parent / "defaults" / "scoring.toml")
YUEXIU = Unit("QX01", "越秀区政府", "区县")
LIWAN = Unit("QX02", "荔湾区政府", "区县")
HAIZHU = Unit("QX03", "海珠区政府", "区县")
UNITS = UnitDirectory([YUEXIU, LIWAN, HAIZHU])
# Due on 20 October: answers count as on time until midnight office time (16:00 UTC).
FLOODS = Request(7, "防汛工作情况", dt.date(2026, 10, 20), ("QX01", "QX02"))
ROADS = Request(8, "道路建设进展", dt.date(2026, 10, 25), ("QX01",))


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=OFFICE)


def link(
    unit: Unit,
    number: int | None,
    received: dt.datetime,
    *,
    requests: tuple[Request, ...] = (FLOODS, ROADS),
    answered: frozenset[int] = frozenset(),
    corrects: Response | None = None,
) -> Link:
    return commission.link(
        unit,
        number,
        received,
        requests={r.number: r for r in requests},
        answered=answered,
        corrects=corrects,
        tz=OFFICE,
    )


def test_the_deadline_is_the_end_of_the_due_day_in_office_time() -> None:
    assert commission.deadline(FLOODS.due, OFFICE) == dt.datetime(2026, 10, 20, 16, 0, tzinfo=dt.UTC)
    assert not commission.is_late(FLOODS, local(2026, 10, 20, 23, 59), OFFICE)
    assert commission.is_late(FLOODS, local(2026, 10, 21, 0, 0), OFFICE)


def test_an_answer_on_the_due_day_is_commissioned_and_one_after_it_late() -> None:
    assert link(YUEXIU, 7, local(2026, 10, 20, 18, 0)) == Link(7, ("约稿",))
    assert link(YUEXIU, 7, local(2026, 10, 21, 9, 0)) == Link(7, ("约稿", "约稿超时"))


def test_a_late_answer_earns_no_commission_bonus_and_costs_the_penalty() -> None:
    adopted_at = dt.datetime(2026, 10, 22, 2, 0, tzinfo=dt.UTC)
    due = commission.deadline(FLOODS.due, OFFICE)

    def points(received: dt.datetime) -> tuple[object, object]:
        flags = link(YUEXIU, 7, received).flags
        item = ScoredItem(
            "2026-0001",
            YUEXIU.id,
            received.astimezone(dt.UTC),
            "防汛",
            commissioned=commission.COMMISSIONED in flags,
            commission_late=commission.LATE in flags,
            commission_due=due,
        )
        events = [Event(item.id, 1, adopted_at, "editor@example.org", Adopt("穗府信息", "标题"))]
        return item_points(item, events, RULES), event_points(item, events, RULES)[1]

    # 标题 2 + 约稿 bonus 2 on time; late: the adoption earns its 2 only, and 约稿超时 costs 5.
    assert points(local(2026, 10, 20, 12, 0)) == (4, 4)
    assert points(local(2026, 10, 21, 12, 0)) == (-3, 2)


def test_a_tag_that_does_not_check_out_earns_nothing_and_says_why() -> None:
    assert link(YUEXIU, 99, local(2026, 10, 19, 9, 0)) == Link(None, ("约稿待核：标注约稿#99，但无此约稿",))
    assert link(HAIZHU, 7, local(2026, 10, 19, 9, 0)) == Link(
        None, ("约稿待核：标注约稿#7，但海珠区政府不在该约稿范围",)
    )


def test_a_bare_tag_answers_the_units_one_open_request() -> None:
    assert link(LIWAN, None, local(2026, 10, 19, 9, 0)) == Link(7, ("约稿",))
    # 越秀 was asked twice: a bare tag is ambiguous until one of the two is answered.
    assert link(YUEXIU, None, local(2026, 10, 19, 9, 0)) == Link(
        None, ("约稿待核：标注约稿但未注明编号，本单位有2个待报送的约稿",)
    )
    assert link(YUEXIU, None, local(2026, 10, 19, 9, 0), answered=frozenset({7})) == Link(8, ("约稿",))
    assert link(HAIZHU, None, local(2026, 10, 19, 9, 0)) == Link(
        None, ("约稿待核：标注约稿但未注明编号，本单位没有待报送的约稿",)
    )


def test_a_correction_is_as_timely_as_the_answer_it_corrects() -> None:
    after = local(2026, 10, 22, 9, 0)
    on_time = Response("2026-0001", YUEXIU.id, local(2026, 10, 20, 9, 0).astimezone(dt.UTC), 7, late=False)
    assert link(YUEXIU, 7, after, corrects=on_time) == Link(7, ("约稿",))
    late = Response("2026-0001", YUEXIU.id, local(2026, 10, 21, 9, 0).astimezone(dt.UTC), 7, late=True)
    assert link(YUEXIU, 7, after, corrects=late) == Link(7, ("约稿", "约稿超时"))
    # Correcting an answer to another request does not make this one timely.
    other = Response("2026-0002", YUEXIU.id, local(2026, 10, 20, 9, 0).astimezone(dt.UTC), 8, late=False)
    assert link(YUEXIU, 7, after, corrects=other) == Link(7, ("约稿", "约稿超时"))


def test_each_units_state_on_a_request() -> None:
    answers = [
        Response("2026-0003", LIWAN.id, local(2026, 10, 21, 9, 0).astimezone(dt.UTC), 7, late=True),
        Response("2026-0001", YUEXIU.id, local(2026, 10, 19, 9, 0).astimezone(dt.UTC), 7),
        Response("2026-0002", YUEXIU.id, local(2026, 10, 20, 9, 0).astimezone(dt.UTC), 7),
    ]
    before = commission.states(FLOODS, answers[1:], local(2026, 10, 20, 12, 0), OFFICE, UNITS)
    assert [(s.unit_name, s.state, s.item_id) for s in before] == [
        ("越秀区政府", Answer.ON_TIME, "2026-0001"),  # the first answer is the one that counts
        ("荔湾区政府", Answer.OPEN, None),
    ]
    after = commission.states(FLOODS, answers, local(2026, 10, 22, 12, 0), OFFICE, UNITS)
    assert [(s.unit_id, s.state) for s in after] == [("QX01", Answer.ON_TIME), ("QX02", Answer.LATE)]


def test_a_request_nobody_answered_is_missed_the_day_after_it_is_due() -> None:
    on_due_day = commission.states(FLOODS, [], local(2026, 10, 20, 23, 59), OFFICE, UNITS)
    assert commission.missed(on_due_day) == []
    next_day = commission.states(FLOODS, [], local(2026, 10, 21, 0, 0), OFFICE, UNITS)
    assert commission.missed(next_day) == ["QX01", "QX02"]


def test_a_unit_no_longer_in_the_directory_keeps_its_id_as_its_name() -> None:
    gone = Request(9, "旧约稿", dt.date(2026, 10, 20), ("QX99",))
    (state,) = commission.states(gone, [], local(2026, 10, 19, 0, 0), OFFICE, UNITS)
    assert (state.unit_name, state.state) == ("QX99", Answer.OPEN)
