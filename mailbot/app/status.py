"""`mailbot status`: what an operator (or a container health check) needs to know at a glance."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from mailbot.app.context import Runtime
from mailbot.core.errors import MailbotError
from mailbot.core.review.status import ItemStatus
from mailbot.shell import outbox
from mailbot.shell.clock import as_utc
from mailbot.shell.db.models import (
    Bounce,
    Disposition,
    EventRow,
    Item,
    MessageRow,
    OutboxRow,
    OutboxStatus,
    Setting,
)
from mailbot.shell.db.store import put_setting, session_scope

STUCK_OUTBOX = dt.timedelta(hours=1)
# A mailbox failing for longer than this is reported even though its last poll is not stale yet:
# a dropped IDLE connection fails and recovers within seconds, a broken mailbox does not.
FAILING_GRACE = dt.timedelta(minutes=5)
# Failed mail and refused sends keep `status` unhealthy this long: the operator is told, and a
# health check recovers by itself once they are a day old (they stay listed, not counted).
RECENT_FAILURES = dt.timedelta(hours=24)
# How many failed mails / refused sends are listed by name.
NEWEST = 5

# `poll --once` writes this one key: every mailbox of the config was polled at that time.
ALL_MAILBOXES_POLLED = "last_poll"
# The daemon writes this one when it starts serving a configuration: JSON {started, idle}.
DAEMON_STARTED = "daemon"


def poll_key(source_id: str) -> str:
    """The setting holding a mailbox's last successful poll (ISO time), written by the daemon."""
    return f"last_poll:{source_id}"


def idle_key(source_id: str) -> str:
    """The setting saying whether a mailbox's intake loop is waiting for mail ("yes"/"no")."""
    return f"idle:{source_id}"


def failing_key(source_id: str) -> str:
    """The setting holding a mailbox's ongoing failure as JSON {since, error}, or "" when none."""
    return f"failing:{source_id}"


# The heartbeats, written beside the code that reads them back; each in its own transaction.


def note_started(rt: Runtime) -> None:
    """The daemon starts serving (again, after a reload)."""
    put_setting(rt.engine, DAEMON_STARTED, json.dumps({"started": rt.now().isoformat(), "idle": False}))


def note_polled(rt: Runtime, source_id: str | None = None) -> None:
    """A successful poll of one mailbox now; of every mailbox of the config when `source_id` is None."""
    put_setting(rt.engine, poll_key(source_id) if source_id else ALL_MAILBOXES_POLLED, rt.now().isoformat())


def note_idle(rt: Runtime, source_id: str, idle: bool) -> None:
    """Whether a mailbox's intake loop waits for new mail (IDLE or a poll interval) now."""
    put_setting(rt.engine, idle_key(source_id), "yes" if idle else "no")


def note_recovered(rt: Runtime, source_id: str) -> None:
    """A mailbox that may have been failing is served again."""
    put_setting(rt.engine, failing_key(source_id), "")


def note_failing(rt: Runtime, source_id: str, exc: Exception, failing: bool | None) -> bool | None:
    """Record that a mailbox fails (once per outage, `failing` is what is known); returns the new state."""
    if failing is True:
        return True
    since = json.dumps({"since": rt.now().isoformat(), "error": f"{type(exc).__name__}: {exc}"[:300]})
    try:
        put_setting(rt.engine, failing_key(source_id), since)
    except SQLAlchemyError:
        return failing  # the database is down too: recorded on a later try
    return True


@dataclass(frozen=True, slots=True)
class MailboxBeat:
    """What the heartbeats say about one mailbox."""

    source_id: str
    last_poll: dt.datetime | None
    idle: bool | None
    failing_since: dt.datetime | None
    error: str | None


def read_beat(source_id: str, settings: dict[str, str], all_polled: dt.datetime | None) -> MailboxBeat:
    """One mailbox's heartbeat from the setting rows; `all_polled` is the last `poll --once`."""
    mine = _time(settings.get(poll_key(source_id)))
    polls = [t for t in (mine, all_polled) if t is not None]
    idle = settings.get(idle_key(source_id))
    failing: dict[str, Any] = json.loads(settings.get(failing_key(source_id)) or "{}")
    return MailboxBeat(
        source_id,
        max(polls) if polls else None,
        None if idle is None else idle == "yes",
        _time(failing.get("since")),
        failing.get("error"),
    )


def mailbox_problems(beat: MailboxBeat, now: dt.datetime, stale_after: dt.timedelta) -> list[str]:
    """Why one mailbox is not being served, if it is not: never polled, stale, or failing."""
    name = beat.source_id
    out = []
    if beat.last_poll is None:
        out.append(f"mailbox {name}: no successful poll yet")
    elif now - beat.last_poll > stale_after:
        out.append(f"mailbox {name}: last successful poll {_minutes(now - beat.last_poll)} min ago")
    # Another daemon polling the same mailbox since the failure began means it is served.
    since = beat.failing_since
    if since is not None and now - since > FAILING_GRACE and (beat.last_poll is None or beat.last_poll < since):
        out.append(f"mailbox {name}: failing for {_minutes(now - since)} min: {beat.error or '?'}")
    return out


def stale_after(poll_interval: int) -> dt.timedelta:
    """How old a mailbox's last successful poll may be (IDLE re-polls at least every 25 min)."""
    return dt.timedelta(seconds=max(300, 10 * poll_interval, 1800))


_Row = TypeVar("_Row", MessageRow, OutboxRow)


def _recent_trouble(
    s: Session, model: type[_Row], trouble: Any, when: Any, since: dt.datetime
) -> tuple[list[_Row], int]:
    """The newest rows in trouble (failed mail, refused sends) and how many since `since`."""
    newest = s.exec(
        select(model).where(trouble).order_by(col(when).desc(), col(model.id).desc()).limit(NEWEST)
    ).all()
    recent = s.exec(select(func.count()).select_from(model).where(trouble, col(when) >= since)).one()
    return list(newest), int(recent)


def health(rt: Runtime) -> dict[str, Any]:
    """The status report (SPEC §8 `status --json`); `healthy` is False with the reasons in `problems`."""
    now = rt.now()
    tz = rt.config.tz
    problems: list[str] = []
    recent = now - RECENT_FAILURES
    with session_scope(rt.engine) as s:
        settings = {
            row.key: row.value
            for row in s.exec(
                select(Setting).where(
                    col(Setting.key).like("last_poll%")
                    | col(Setting.key).like("idle:%")
                    | col(Setting.key).like("failing:%")
                )
            ).all()
        }
        pending = s.exec(select(func.count()).where(Item.status == ItemStatus.PENDING)).one()
        ob = outbox.state(s)
        failed = s.exec(select(func.count()).where(MessageRow.disposition == Disposition.FAILED)).one()
        failed_rows, failed_recent = _recent_trouble(
            s, MessageRow, MessageRow.disposition == Disposition.FAILED, MessageRow.updated_at, recent
        )
        failed_newest = [_failed_mail(r, tz) for r in failed_rows]
        dead_rows, dead_recent = _recent_trouble(
            s, OutboxRow, OutboxRow.status == OutboxStatus.DEAD, OutboxRow.sent_at, recent
        )
        dead_newest = [_dead_mail(r, tz) for r in dead_rows]
        bouncing = [b.address for b in s.exec(select(Bounce).order_by(col(Bounce.address))).all()]
        urgent = _urgent(s, now, tz)

    beats: list[MailboxBeat] = []
    boxes: list[dict[str, Any]] = []
    all_polled = _time(settings.get(ALL_MAILBOXES_POLLED))
    for sid, interval in _configured_mailboxes(rt, problems):
        beat = read_beat(sid, settings, all_polled)
        mine = mailbox_problems(beat, now, stale_after(interval))
        problems.extend(mine)
        beats.append(beat)
        boxes.append(
            {
                "mailbox": sid,
                "healthy": not mine,
                "last_poll": _iso(beat.last_poll, tz),
                "idle": beat.idle,
                "failing_since": _iso(beat.failing_since, tz),
                "error": beat.error,
            }
        )
    polls = [b.last_poll for b in beats]
    # The least recent mailbox speaks for all: one mailbox not served is the desk not served.
    last_poll = None if not polls or None in polls else min(p for p in polls if p is not None)
    idles = [b.idle for b in beats]
    idle = None if not idles or None in idles else all(idles)

    if ob.oldest_queued is not None and now - as_utc(ob.oldest_queued) > STUCK_OUTBOX:
        problems.append(
            f"outbox stuck: oldest mail queued since {as_utc(ob.oldest_queued).astimezone(tz):%Y-%m-%d %H:%M}"
        )
    if failed_recent:
        named = "; ".join(f"<{m['message_id']}> {_short(m['reason'])}" for m in failed_newest[:3])
        problems.append(
            f"{failed_recent} mail(s) failed in the last 24 h (mailbot messages list): {named}"
        )
    if dead_recent:
        named = "; ".join(
            f"<{m['message_id']}> to {', '.join(m['to'])}: {_short(m['error'])}" for m in dead_newest[:3]
        )
        problems.append(f"{dead_recent} outgoing mail(s) refused for good (5xx) in the last 24 h: {named}")
    trigger = CronTrigger.from_crontab(rt.config.bulletin.schedule, timezone=tz)
    nxt = trigger.get_next_fire_time(None, now.astimezone(tz))
    return {
        "healthy": not problems,
        "problems": problems,
        "last_poll": _iso(last_poll, tz),
        "idle": idle,
        "mailboxes": boxes,
        "pending_review": int(pending),
        "outbox": {
            "queued": ob.queued,
            "oldest_queued": as_utc(ob.oldest_queued).astimezone(tz).isoformat()
            if ob.oldest_queued
            else None,
            "dead": ob.dead,
            "dead_last_24h": int(dead_recent),
            "dead_newest": dead_newest,
        },
        "failed_mails": int(failed),
        "failed_last_24h": int(failed_recent),
        "failed_newest": failed_newest,
        "bouncing": bouncing,
        "next_bulletin": nxt.isoformat() if nxt else None,
        "urgent": urgent,
        "daemon": json.loads(d.value) if (d := _daemon(rt)) else None,
    }


def _configured_mailboxes(rt: Runtime, problems: list[str]) -> list[tuple[str, int]]:
    """(source id, poll interval) of every mailbox of the config; nothing is connected."""
    boxes = rt.config.mailboxes or (rt.config.mailbox,)
    try:
        opened = rt.mailboxes
    except MailbotError as exc:
        problems.append(f"mailboxes cannot be opened: {exc}")
        return []
    return [(box.source_id, cfg.poll_interval) for box, cfg in zip(opened, boxes, strict=True)]


def _urgent(s: Any, now: dt.datetime, tz: dt.tzinfo) -> list[dict[str, Any]]:
    """Urgent items of the last 30 days: how long each waited for its first decision (2-hour rule)."""
    since = now - dt.timedelta(days=30)
    items = [
        i
        for i in s.exec(select(Item).where(Item.urgent == True)).all()  # noqa: E712
        if as_utc(i.received_at) >= since
    ]
    out = []
    for item in items:
        first = s.exec(select(func.min(EventRow.at)).where(EventRow.item_id == item.id)).one()
        received = as_utc(item.received_at)
        minutes = _minutes((as_utc(first) if first else now) - received)
        out.append(
            {
                "item": item.id,
                "title": item.title,
                "received_at": received.astimezone(tz).isoformat(),
                "first_decision_minutes": minutes if first else None,
                "state": f"decided after {minutes} min" if first else f"waiting {minutes} min",
            }
        )
    return out


def _failed_mail(row: MessageRow, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "message_id": row.message_id,
        "from": row.from_addr,
        "subject": row.subject,
        "reason": row.reason,
        "attempts": row.attempts,
        "at": _iso(as_utc(row.updated_at), tz),
        "in_failed_folder": row.moved,
    }


def _dead_mail(row: OutboxRow, tz: dt.tzinfo) -> dict[str, Any]:
    return {
        "message_id": row.message_id,
        "kind": row.kind,
        "item": row.item_id,
        "to": list(row.rcpt_to),
        "subject": row.subject,
        "error": row.last_error,
        "at": _iso(as_utc(row.sent_at), tz) if row.sent_at else None,
    }


def _time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    t = dt.datetime.fromisoformat(text)
    return as_utc(t)


def _iso(t: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    return t.astimezone(tz).isoformat() if t is not None else None


def _minutes(d: dt.timedelta) -> int:
    return int(d.total_seconds() // 60)


def _short(text: str | None, limit: int = 160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _daemon(rt: Runtime) -> Setting | None:
    with session_scope(rt.engine) as s:
        return s.get(Setting, DAEMON_STARTED)
