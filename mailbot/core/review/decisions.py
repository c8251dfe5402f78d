"""The decisions a reviewer can make on an item, as typed values.

Reply parsing (replies.py) produces these; the store records them as events;
scoring (scoring.py) turns them into points. Keeping them here lets each of
those modules depend on one small vocabulary instead of on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """The stable name of each decision, as stored in the events table and in JSON."""

    ADOPT = "采用"
    REJECT = "不采用"
    INSTRUCT = "批示"
    UPPER_ADOPT = "上级采用"
    FORWARD = "上报"
    COMMISSION = "约稿"
    PENALTY = "扣分"
    UNDO = "撤销"
    HELP = "帮助"


@dataclass(frozen=True, slots=True)
class Adopt:
    """采用 [刊物] [档次]: adopted in a publication at a grade (None = configured default)."""

    publication: str | None = None
    grade: str | None = None
    kind: Kind = Kind.ADOPT


@dataclass(frozen=True, slots=True)
class Reject:
    """不采用 / 暂不采用 / 不予采用 / 退回 [理由]."""

    reason: str = ""
    kind: Kind = Kind.REJECT


@dataclass(frozen=True, slots=True)
class Instruct:
    """批示 <级别>: a leader's instruction at a level (e.g. 市, 省, 国务院)."""

    level: str
    kind: Kind = Kind.INSTRUCT


@dataclass(frozen=True, slots=True)
class UpperAdopt:
    """上级采用 <级别> (省采用, 国办采用): adopted by an upper office."""

    level: str
    kind: Kind = Kind.UPPER_ADOPT


@dataclass(frozen=True, slots=True)
class Forward:
    """上报 <级别>: forwarded to an upper office."""

    level: str
    kind: Kind = Kind.FORWARD


@dataclass(frozen=True, slots=True)
class Commission:
    """约稿: the item answers a commissioned request."""

    kind: Kind = Kind.COMMISSION


@dataclass(frozen=True, slots=True)
class Penalty:
    """扣分 <分值> [理由]: points taken from the item's unit (points is positive)."""

    points: float
    reason: str = ""
    kind: Kind = Kind.PENALTY


@dataclass(frozen=True, slots=True)
class Undo:
    """撤销: undo this reviewer's last decision on the item."""

    kind: Kind = Kind.UNDO


@dataclass(frozen=True, slots=True)
class Help:
    """帮助: answer with the command table."""

    kind: Kind = Kind.HELP


Decision = Adopt | Reject | Instruct | UpperAdopt | Forward | Commission | Penalty | Undo | Help

# The one registry of decision kinds: a stored kind name back to its type.
REGISTRY: dict[Kind, type[Decision]] = {
    Kind.ADOPT: Adopt,
    Kind.REJECT: Reject,
    Kind.INSTRUCT: Instruct,
    Kind.UPPER_ADOPT: UpperAdopt,
    Kind.FORWARD: Forward,
    Kind.COMMISSION: Commission,
    Kind.PENALTY: Penalty,
    Kind.UNDO: Undo,
    Kind.HELP: Help,
}


def arguments(decision: Decision) -> dict[str, Any]:
    """The decision's arguments as stored (every field but its kind)."""
    return {f.name: getattr(decision, f.name) for f in fields(decision) if f.name != "kind"}


def rebuild(kind: str, args: dict[str, Any]) -> Decision:
    """The typed decision a stored (kind, arguments) pair names; KeyError for an unknown kind."""
    return REGISTRY[Kind(kind)](**args)


def describe(decision: Decision) -> str:
    """The decision written back as the command that made it, e.g. 采用 穗府信息 标题."""
    match decision:
        case Adopt(publication=pub, grade=grade):
            return " ".join(x for x in ("采用", pub, grade) if x)
        case Reject(reason=reason):
            return f"不采用 {reason}".strip()
        case Instruct(level=level):
            return f"批示 {level}"
        case UpperAdopt(level=level):
            return f"上级采用 {level}"
        case Forward(level=level):
            return f"上报 {level}"
        case Commission():
            return "约稿"
        case Penalty(points=points, reason=reason):
            return f"扣分 {points:g} {reason}".strip()
        case Undo():
            return "撤销"
        case Help():
            return "帮助"
    return str(decision)
