"""Commissioned requests (约稿, SPEC §5): numbered requests mailed to units, answers linked by 【约稿#N】.

This module numbers and mails the requests and their reminders and reads the rows; the
rules (deadline, lateness, linking, each unit's state, missed requests) are pure, in
core/scoring/commission.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlmodel import Session, col, select

from mailbot.app import mailer
from mailbot.app.context import Runtime
from mailbot.core import letters
from mailbot.core.bulletin.content import YuegaoEntry
from mailbot.core.review.status import UNSCORED
from mailbot.core.scoring import commission
from mailbot.core.scoring.commission import Answer as Answer  # re-exported: callers read states by it
from mailbot.core.scoring.commission import UnitState as UnitState
from mailbot.core.scoring.periods import Period
from mailbot.core.submission.units import Unit
from mailbot.shell.db.convert import commission_request, commission_response
from mailbot.shell.db.models import Item, YuegaoRow
from mailbot.shell.db.store import next_value, session_scope


def deadline(request: YuegaoRow, rt: Runtime) -> dt.datetime:
    """The end of the due day, office time (UTC)."""
    return commission.deadline(request.due, rt.config.tz)


def states(rt: Runtime, s: Session, request: YuegaoRow, now: dt.datetime) -> list[UnitState]:
    """Each addressed unit's state on the request at `now`."""
    answers = s.exec(
        select(Item).where(Item.yuegao_no == request.id, col(Item.status).not_in(list(UNSCORED)))
    ).all()
    return commission.states(
        commission_request(request),
        [commission_response(i) for i in answers],
        now,
        rt.config.tz,
        rt.directory(),
    )


def requests(s: Session) -> dict[int, commission.Request]:
    """Every request, by number."""
    return {r.id: commission_request(r) for r in s.exec(select(YuegaoRow).order_by(col(YuegaoRow.id))).all()}


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
        out += [(request, uid) for uid in commission.missed(states(rt, s, request, now))]
    return out


# The entry points' calls (`yuegao new`, the daemon's reminder job), each in its own transaction.


def create_request(rt: Runtime, *, title: str, units: Sequence[Unit], due: dt.date, text: str) -> int:
    """Number a new request and queue its mails (see new_request); returns its number."""
    with session_scope(rt.engine) as s:
        return new_request(rt, s, title=title, units=units, due=due, text=text).id


def send_reminders(rt: Runtime) -> int:
    """Queue today's reminders (see queue_reminders); returns how many."""
    with session_scope(rt.engine) as s:
        return queue_reminders(rt, s, rt.now())
