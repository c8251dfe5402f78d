"""The scoring shell: reads items and decisions from the database and hands them to scoring.py.

Nothing here computes points; it only gathers the inputs (items, the event
ledger, units, the rules in force) so that every figure mailbot shows comes
from the one pure scoring function.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cached_property

from sqlmodel import Session, col, select

from mailbot.app.commission import deadline, missed
from mailbot.app.context import Runtime
from mailbot.core.review import ledger
from mailbot.core.review.decisions import Penalty
from mailbot.core.review.status import UNSCORED
from mailbot.core.scoring import commission
from mailbot.core.scoring import scores as scoring
from mailbot.core.scoring.periods import Period, parse_period
from mailbot.core.scoring.rules import ScoringRules
from mailbot.shell.clock import as_utc
from mailbot.shell.db.convert import ledger_event
from mailbot.shell.db.models import EventRow, Item, YuegaoRow


def scored_item(item: Item, due: datetime | None = None) -> scoring.ScoredItem:
    """What scoring needs of an item row; `due` is the deadline of the 约稿 it answers."""
    return scoring.ScoredItem(
        id=item.id,
        unit_id=item.unit_id,
        received_at=as_utc(item.received_at),
        title=item.title,
        scored=item.status not in UNSCORED,
        commissioned=commission.COMMISSIONED in item.flags,
        commission_late=commission.LATE in item.flags,
        commission_due=due,
    )


class Scorebook:
    """Scores computed from one session's view of the database."""

    def __init__(self, rt: Runtime, session: Session) -> None:
        self.rt = rt
        self.s = session

    @property
    def rules(self) -> ScoringRules:
        """The loaded scoring rules."""
        return self.rt.rules

    def period(self, label: str) -> Period:
        """Parse 2026-10 | 2026-Q1 | 2026 on the office's assessment calendar."""
        return parse_period(label, self.rules.calendar)

    @cached_property
    def _missed(self) -> tuple[list[scoring.ScoredItem], list[ledger.Event]]:
        """A 约稿 not answered by its deadline is a penalty on that day: a synthetic item and event.

        The penalty's points come from the rules (Penalty with 0 points = the
        rules' figure for the named penalty), like a late answer's.
        """
        items, events = [], []
        for n, (request, unit_id) in enumerate(missed(self.rt, self.s, self.rt.now())):
            when = deadline(request, self.rt)
            rs = self.rules.ruleset_at(when)
            name = rs.late_commission_penalty
            if not name:
                continue
            iid = f"约稿#{request.id}:{unit_id}"
            items.append(
                scoring.ScoredItem(
                    iid, unit_id, when, f"约稿#{request.id}《{request.title}》未报送", submitted=False
                )
            )
            events.append(ledger.Event(iid, -(1_000_000 + n), when, "system", Penalty(0, name)))
        return items, events

    @cached_property
    def _deadlines(self) -> dict[int, datetime]:

        return {r.id: deadline(r, self.rt) for r in self.s.exec(select(YuegaoRow)).all() if r.id is not None}

    def _scored(self, item: Item) -> scoring.ScoredItem:
        due = self._deadlines.get(item.yuegao_no) if item.yuegao_no is not None else None
        return scored_item(item, due)

    @cached_property
    def _items(self) -> list[scoring.ScoredItem]:
        rows = self.s.exec(select(Item).where(col(Item.id).not_like("R%"))).all()
        return [self._scored(i) for i in rows] + self._missed[0]

    @cached_property
    def _events(self) -> list[ledger.Event]:
        rows = self.s.exec(select(EventRow).order_by(col(EventRow.id))).all()
        return [ledger_event(r) for r in rows] + self._missed[1]

    def rows(self, period: Period) -> list[scoring.ScoreRow]:
        """Every unit's row for the period (SPEC §8 `scores`)."""
        return scoring.score_period(self.rt.directory().units, self._items, self._events, self.rules, period)

    def explain(self, unit_id: str, period: Period) -> list[scoring.ExplainLine]:
        """Each item and event behind a unit's figure."""
        return scoring.explain(
            unit_id, self.rt.directory().units, self._items, self._events, self.rules, period
        )

    def item_and_events(self, item_id: str) -> tuple[scoring.ScoredItem | None, list[ledger.Event]]:
        """One item as scoring sees it (its 约稿 deadline included) and its ledger; (None, []) if unknown."""
        item = self.s.get(Item, item_id)
        if item is None:
            return None, []
        rows = self.s.exec(
            select(EventRow).where(EventRow.item_id == item_id).order_by(col(EventRow.id))
        ).all()
        return self._scored(item), [ledger_event(r) for r in rows]

    def item_points(self, item_id: str) -> float | None:
        """The item's current points (all its effective decisions); None for unscored items."""
        item, events = self.item_and_events(item_id)
        if item is None or not item.scored:
            return None
        return float(scoring.item_points(item, events, self.rules))

    def event_points(self, item_id: str) -> dict[int, float]:
        """The points each event of the item changed, by event id."""
        item, events = self.item_and_events(item_id)
        if item is None or not item.scored:
            return {}
        return {seq: float(p) for seq, p in scoring.event_points(item, events, self.rules).items()}


def item_points(rt: Runtime, s: Session, item_id: str) -> float | None:
    """The item's current points (for notices and confirmations)."""
    return Scorebook(rt, s).item_points(item_id)


def as_number(value: Decimal | None) -> float | int | None:
    """A Decimal for JSON: an int when whole, else a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)
