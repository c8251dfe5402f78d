"""The 约稿 rules (SPEC §5): a request's deadline, which request a tagged item answers, lateness,
each unit's state on a request, and the requests a unit missed.

A unit's state on a request is derived, never stored: answered on time (an item
tagged 【约稿#N】 received by the end of the due day, office time), late, still open
(due date not yet passed), or missed. A missed request becomes a penalty in scoring
(the rules' late_commission_penalty) on the day after the due date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from mailbot.core.submission.units import Unit, UnitDirectory

COMMISSIONED = "约稿"
LATE = "约稿超时"
UNCHECKED = "约稿待核"
"""Item flags: answers a request; answered it after the deadline; claims a request that does not check out."""


class Answer(StrEnum):
    """A unit's state on one request."""

    ON_TIME = "on_time"
    LATE = "late"
    OPEN = "open"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class Request:
    """A numbered request (约稿#N): what is asked of which units, by which day (office time)."""

    number: int
    title: str
    due: dt.date
    units: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Response:
    """An item as the 约稿 rules see it: which request it answers and whether intake filed it late.

    `received_at` is tz-aware.
    """

    item_id: str
    unit_id: str | None
    received_at: dt.datetime
    request: int | None
    late: bool = False


@dataclass(frozen=True, slots=True)
class UnitState:
    """One unit on one request."""

    unit_id: str
    unit_name: str
    state: Answer
    item_id: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """The request a tagged item answers (None: none checks out) and the flags it is filed with."""

    number: int | None
    flags: tuple[str, ...]


def deadline(due: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The end of the due day in the office's time zone `tz`, in UTC."""
    return dt.datetime.combine(due + dt.timedelta(days=1), dt.time(0), tz).astimezone(dt.UTC)


def is_late(request: Request, received: dt.datetime, tz: dt.tzinfo) -> bool:
    """Whether an answer received at `received` (tz-aware) comes after the request's deadline."""
    return received >= deadline(request.due, tz)


def link(
    unit: Unit,
    number: int | None,
    received: dt.datetime,
    *,
    requests: Mapping[int, Request],
    answered: Collection[int],
    corrects: Response | None,
    tz: dt.tzinfo,
) -> Link:
    """The 约稿 an item tagged 【约稿#number】 (or a bare 【约稿】: None) answers, and its flags.

    The tag alone earns nothing: anyone can write 【约稿#N】. Only a request N that exists and
    asked the sender's unit makes the item commissioned; otherwise the reviewers see why and may
    reply 约稿 to grant it. A bare 【约稿】 answers the unit's one unanswered request, if it has one.
    `requests` are the office's requests by number, `answered` the numbers the unit has already
    answered (live items only), `corrects` the item this one replaces by 【更正】, if any.
    """
    if number is None:
        open_ = [n for n in sorted(requests) if unit.id in requests[n].units and n not in answered]
        if len(open_) != 1:
            why = "本单位没有待报送的约稿" if not open_ else f"本单位有{len(open_)}个待报送的约稿"
            return Link(None, (f"{UNCHECKED}：标注约稿但未注明编号，{why}",))
        number = open_[0]
    request = requests.get(number)
    if request is None:
        return Link(None, (f"{UNCHECKED}：标注约稿#{number}，但无此约稿",))
    if unit.id not in request.units:
        return Link(None, (f"{UNCHECKED}：标注约稿#{number}，但{unit.name}不在该约稿范围",))
    late = is_late(request, received, tz)
    if late and corrects is not None and corrects.request == number and not corrects.late:
        # A 更正 replaces an answer already given: it is as timely as the answer it corrects.
        late = False
    return Link(number, (COMMISSIONED, *((LATE,) if late else ())))


def states(
    request: Request, answers: Iterable[Response], now: dt.datetime, tz: dt.tzinfo, directory: UnitDirectory
) -> list[UnitState]:
    """Each addressed unit's state on the request at `now`, from the live items answering it."""
    first: dict[str, Response] = {}
    for answer in sorted(answers, key=lambda a: a.received_at):
        if answer.unit_id:
            first.setdefault(answer.unit_id, answer)
    end = deadline(request.due, tz)
    out = []
    for uid in request.units:
        unit = directory.get(uid)
        found = first.get(uid)
        if found is not None:
            # As intake judged it when filing (a 更正 is as timely as the answer it corrects).
            state = Answer.LATE if found.late else Answer.ON_TIME
        else:
            state = Answer.OPEN if now < end else Answer.MISSED
        out.append(UnitState(uid, unit.name if unit else uid, state, found.item_id if found else None))
    return out


def missed(states_now: Iterable[UnitState]) -> list[str]:
    """The units whose deadline passed with no answer (each a scoring penalty), from their states."""
    return [st.unit_id for st in states_now if st.state == Answer.MISSED]
