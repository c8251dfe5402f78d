"""Commissioned requests (约稿, SPEC §5): numbered requests mailed to units, answers linked by 【约稿#N】.

A unit's state on a request is derived, never stored: answered on time (an
item tagged 【约稿#N】 received by the end of the due day, office time), late,
still open (due date not yet passed), or missed. A missed request becomes a
penalty in scoring (the rules' late_commission_penalty) on the day after the due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session, col, select

from mailbot.app import mailer
from mailbot.app.context import Runtime
from mailbot.core import letters
from mailbot.core.bulletin.content import YuegaoEntry
from mailbot.core.review.status import UNSCORED
from mailbot.core.scoring.periods import Period
from mailbot.core.submission.units import Unit
from mailbot.shell.clock import as_utc
from mailbot.shell.db.models import Item, YuegaoRow
from mailbot.shell.db.store import next_value


class Answer(StrEnum):
    """A unit's state on one request."""

    ON_TIME = "on_time"
    LATE = "late"
    OPEN = "open"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class UnitState:
    """One unit on one request."""

    unit_id: str
    unit_name: str
    state: Answer
    item_id: str | None


def deadline(request: YuegaoRow, rt: Runtime) -> dt.datetime:
    """The end of the due day, office time (UTC)."""
    return dt.datetime.combine(request.due + dt.timedelta(days=1), dt.time(0), rt.config.tz).astimezone(
        dt.UTC
    )


def states(rt: Runtime, s: Session, request: YuegaoRow, now: dt.datetime) -> list[UnitState]:
    """Each addressed unit's state on the request at `now`."""
    directory = rt.directory()
    answers = s.exec(
        select(Item).where(
            Item.yuegao_no == request.id, col(Item.status).not_in(sorted(UNSCORED))
        )
    ).all()
    first: dict[str, Item] = {}
    for item in sorted(answers, key=lambda i: as_utc(i.received_at)):
        if item.unit_id:
            first.setdefault(item.unit_id, item)
    end = deadline(request, rt)
    out = []
    for uid in request.units:
        unit = directory.get(uid)
        name = unit.name if unit else uid
        answer = first.get(uid)
        if answer is not None:
            # As intake judged it when filing (a 更正 is as timely as the answer it corrects).
            state = Answer.LATE if "约稿超时" in answer.flags else Answer.ON_TIME
        else:
            state = Answer.OPEN if now < end else Answer.MISSED
        out.append(UnitState(uid, name, state, answer.id if answer else None))
    return out


def is_late(rt: Runtime, s: Session, number: int, received: dt.datetime) -> bool:
    """Whether an answer to 约稿#number received at `received` is late (False when no such request)."""
    request = s.get(YuegaoRow, number)
    return request is not None and received >= deadline(request, rt)


def new_request(
    rt: Runtime, s: Session, *, title: str, units: Sequence[Unit], due: dt.date, text: str, by: str = "cli"
) -> YuegaoRow:
    """Number the request and queue one mail per officer of each chosen unit."""
    number = next_value(s, "yuegao")
    row = YuegaoRow(id=number, title=title, text=text, due=due, units=[u.id for u in units], created_by=by)
    s.add(row)
    s.flush()
    for unit in units:
        for addr in unit.officers:
            letter = letters.yuegao_request(number=number, title=title, text=text, due=due, unit=unit, to=addr)
            mailer.queue(rt, s, letter)
    return row


def queue_reminders(rt: Runtime, s: Session, now: dt.datetime) -> int:
    """One day before the due date, remind units that have not answered (once per unit and request)."""
    today = rt.local(now).date()
    n = 0
    for request in s.exec(select(YuegaoRow).where(YuegaoRow.due == today + dt.timedelta(days=1))).all():
        for st in states(rt, s, request, now):
            if st.state != Answer.OPEN:
                continue
            unit = rt.directory().get(st.unit_id)
            if unit is None:  # removed from the directory since: nobody to remind
                continue
            for addr in unit.officers:
                letter = letters.yuegao_reminder(
                    number=request.id, title=request.title, text=request.text, due=request.due, unit=unit, to=addr
                )
                mailer.queue(rt, s, letter)
                n += 1
    return n


def bulletin_entries(rt: Runtime, s: Session, period: Period) -> list[YuegaoEntry]:
    """The requests due within the period, with who answered on time, late, or not at all."""
    start, end = period.start.date(), period.end.date()
    out = []
    for request in s.exec(select(YuegaoRow).order_by(col(YuegaoRow.id))).all():
        if not start <= request.due < end:
            continue
        sts = states(rt, s, request, period.end.astimezone(dt.UTC))
        out.append(
            YuegaoEntry(
                number=request.id,
                title=request.title,
                due=request.due,
                on_time=tuple(x.unit_name for x in sts if x.state == Answer.ON_TIME),
                late=tuple(x.unit_name for x in sts if x.state == Answer.LATE),
                missing=tuple(x.unit_name for x in sts if x.state in (Answer.MISSED, Answer.OPEN)),
            )
        )
    return out


def missed(rt: Runtime, s: Session, now: dt.datetime) -> list[tuple[YuegaoRow, str]]:
    """(request, unit id) pairs whose deadline passed with no answer: each is a scoring penalty."""
    out = []
    for request in s.exec(select(YuegaoRow)).all():
        for st in states(rt, s, request, now):
            if st.state == Answer.MISSED:
                out.append((request, st.unit_id))
    return out
