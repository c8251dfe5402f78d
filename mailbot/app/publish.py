"""Issuing a bulletin: gather the period's figures, render one copy per unit, send each exactly once.

Every (bulletin, unit, address) is one outbox row with a stable dedupe key,
written before anything is sent: a re-run, a crash mid-send or a restart finds
the rows already there and only the unsent ones go out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from mailbot.app import mailer
from mailbot.app.commission import bulletin_entries
from mailbot.app.context import Runtime
from mailbot.app.scorebook import Scorebook
from mailbot.core import letters
from mailbot.core.bulletin import adoptions
from mailbot.core.bulletin import content as bt
from mailbot.core.bulletin.workbook import bulletin_xlsx, workbook_filename
from mailbot.core.scoring.periods import Period, is_quarter_end, quarter_of, year_of
from mailbot.core.scoring.scores import ScoreRow
from mailbot.shell import compose
from mailbot.shell.clock import as_utc
from mailbot.shell.db.convert import bulletin_listed, ledger_event
from mailbot.shell.db.models import BulletinRow, EventRow, Item, OutboxRow, OutboxStatus
from mailbot.shell.db.store import session_scope

log = logging.getLogger(__name__)


def gather(rt: Runtime, s: Session, period: Period) -> bt.BulletinData:
    """Everything the bulletin shows for `period`, from the database and the scoring core."""
    book = Scorebook(rt, s)
    cal = rt.rules.calendar
    rows = book.rows(period)
    # A quarter's own bulletin closes the quarter as much as the bulletin of its last month.
    quarter_end = period.kind == "quarter" or (period.kind == "month" and is_quarter_end(period, cal))
    if period.kind == "quarter":
        quarter_rows: list[ScoreRow] | None = rows
    else:
        quarter_rows = book.rows(quarter_of(period.start, cal)) if quarter_end else None
    items = {i.id: i for i in s.exec(select(Item).where(col(Item.id).not_like("R%"))).all()}
    received = sum(1 for i in items.values() if period.contains(as_utc(i.received_at)))
    events = [ledger_event(r) for r in s.exec(select(EventRow).order_by(col(EventRow.id))).all()]
    listed = {i.id: bulletin_listed(i) for i in items.values()}
    found = adoptions.entries(events, listed, rt.rules, period, book.event_points)
    urgent = []
    for item in sorted(items.values(), key=lambda i: i.id):
        if item.urgent and period.contains(as_utc(item.received_at)):
            first = min((ev.at for ev in events if ev.item_id == item.id), default=None)
            urgent.append(
                bt.UrgentEntry(
                    item.id,
                    item.unit_name,
                    item.title,
                    as_utc(item.received_at),
                    (first - as_utc(item.received_at)) if first else None,
                )
            )

    return bt.BulletinData(
        office=rt.config.office.name,
        title=rt.config.bulletin.title,
        year=year_of(period.start, cal),
        number=bt.issue_number(period, cal),
        period=period,
        issued=rt.local(rt.now()).date(),
        rows=rows,
        series_order=[sr.name for sr in rt.rules.ruleset_for(period).series],
        received=received,
        adopted=len({a.item_id for a in found.adopted}),
        adopted_entries=found.adopted,
        instruction_entries=found.instructions,
        upper_entries=found.uppers,
        yuegao_entries=bulletin_entries(rt, s, period),
        urgent_entries=urgent,
        quarter_end=quarter_end,
        quarter_rows=quarter_rows,
    )


@dataclass(frozen=True, slots=True)
class Planned:
    """One bulletin mail to one address of one unit."""

    unit_id: str
    unit_name: str
    address: str
    dedupe_key: str


def plan(rt: Runtime, data: bt.BulletinData) -> list[Planned]:
    """Who gets a copy: every unit with a score row, each of its bulletin_to addresses."""
    directory = rt.directory()
    label = data.period.label
    out: list[Planned] = []
    for row in data.rows:
        unit = directory.get(row.unit_id)
        if unit is None:
            continue
        for addr in dict.fromkeys(a.lower() for a in unit.bulletin_to):
            out.append(Planned(unit.id, unit.name, addr, letters.bulletin_key(label, unit.id, addr)))
    return out


def build_mail(
    rt: Runtime,
    data: bt.BulletinData,
    p: Planned,
    xlsx: bytes,
    copies: compose.Copies | None = None,
) -> compose.Message:
    """The bulletin as one unit's copy: its own line first, HTML + text + the .xlsx.

    Pass one `copies` for all the copies of a bulletin: it renders the bulletin once.
    """
    return _built(rt, data, p, xlsx, copies or compose.Copies(data))[1]


def _built(
    rt: Runtime, data: bt.BulletinData, p: Planned, xlsx: bytes, copies: compose.Copies
) -> tuple[letters.Letter, compose.Message]:
    letter = letters.bulletin_copy(data, unit_id=p.unit_id, to=p.address, xlsx=xlsx)
    return letter, mailer.build(rt, letter, copies.text(p.unit_id), copies.html(p.unit_id))


CHUNK = 50
"""Copies queued per transaction: a province's bulletin must not hold SQLite's single write
lock (and so stop intake) for the minutes its thousands of copies take to build."""


def issue(rt: Runtime, period: Period) -> tuple[bt.BulletinData, int]:
    """Queue every copy of the period's bulletin, then record it; idempotent, and resumes after a crash.

    Copies are built outside any transaction and queued CHUNK at a time. The bulletin row,
    which tells the scheduler that the period is done, is written last: a crash in between
    leaves some copies queued and no row, and the next run queues only the rest (dedupe keys).
    """
    with session_scope(rt.engine) as s:
        data = gather(rt, s, period)
        done = set(
            s.exec(
                select(OutboxRow.dedupe_key).where(
                    col(OutboxRow.dedupe_key).like(letters.bulletin_prefix(period.label) + "%")
                )
            ).all()
        )
    xlsx = bulletin_xlsx(data)
    planned = plan(rt, data)
    todo = [p for p in planned if p.dedupe_key not in done]  # queued by an earlier run: never twice
    copies = compose.Copies(data)
    queued = 0
    for start in range(0, len(todo), CHUNK):
        batch = [_built(rt, data, p, xlsx, copies) for p in todo[start : start + CHUNK]]
        with session_scope(rt.engine) as s:
            for letter, message in batch:
                queued += mailer.enqueue(rt, s, message, letter)
    with session_scope(rt.engine) as s:
        if s.exec(select(BulletinRow.id).where(BulletinRow.period == period.label)).first() is None:
            s.add(BulletinRow(period=period.label, title=bt.bulletin_title(data), recipients=len(planned)))
    log.info("bulletin %s: %d copies queued (%d planned)", period.label, queued, len(planned))
    return data, queued


def write_out(rt: Runtime, period: Period, directory: Path, *, emails: bool = True) -> list[Path]:
    """Write the bulletin's .html, .txt, .xlsx and one .eml per recipient into `directory` (nothing sent)."""
    with session_scope(rt.engine) as s:
        data = gather(rt, s, period)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"bulletin-{period.label}"
    written = []
    for name, content in ((f"{stem}.html", compose.render_html(data)), (f"{stem}.txt", compose.render_text(data))):
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    xlsx = bulletin_xlsx(data)
    path = directory / workbook_filename(data)
    path.write_bytes(xlsx)
    written.append(path)
    if not emails:
        return written
    eml_dir = directory / "eml"
    eml_dir.mkdir(exist_ok=True)
    copies = compose.Copies(data)
    for p in plan(rt, data):
        path = eml_dir / f"{p.unit_id}-{p.address.replace('@', '_at_')}.eml"
        path.write_bytes(build_mail(rt, data, p, xlsx, copies).as_bytes())
        written.append(path)
    return written


def dry_run(rt: Runtime, period: Period) -> tuple[bt.BulletinData, Sequence[Planned]]:
    """What --send would send, to whom, without queuing anything."""
    with session_scope(rt.engine) as s:
        data = gather(rt, s, period)
    return data, plan(rt, data)


def sent_for(rt: Runtime, period_label: str) -> int:
    """How many copies of a period's bulletin have been sent."""
    with session_scope(rt.engine) as s:
        rows = s.exec(
            select(OutboxRow.status).where(
                col(OutboxRow.dedupe_key).like(letters.bulletin_prefix(period_label) + "%")
            )
        ).all()
    return sum(1 for st in rows if st == OutboxStatus.SENT)
