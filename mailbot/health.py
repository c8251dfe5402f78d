"""`mailbot status`: what an operator (or a container health check) needs to know at a glance."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func
from sqlmodel import col, select

from mailbot import outbox
from mailbot.clock import as_utc
from mailbot.models import Bounce, Disposition, EventRow, Item, ItemStatus, MessageRow, Setting
from mailbot.runtime import Runtime
from mailbot.store import session_scope

STUCK_OUTBOX = dt.timedelta(hours=1)


def health(rt: Runtime) -> dict[str, Any]:
    """The status report (SPEC §8 `status --json`); `healthy` is False with the reasons in `problems`."""
    now = rt.now()
    tz = rt.config.tz
    problems: list[str] = []
    with session_scope(rt.engine) as s:
        last = s.get(Setting, "last_poll")
        idle = s.get(Setting, "idle")
        pending = s.exec(select(func.count()).where(Item.status == ItemStatus.PENDING)).one()
        ob = outbox.state(s)
        failed = s.exec(select(func.count()).where(MessageRow.disposition == Disposition.FAILED)).one()
        bouncing = [b.address for b in s.exec(select(Bounce).order_by(col(Bounce.address))).all()]
        # Urgent items of the last 30 days: how long each waited for its first decision (2-hour rule).
        since = now - dt.timedelta(days=30)
        urgent_items = [
            i
            for i in s.exec(select(Item).where(Item.urgent == True)).all()  # noqa: E712
            if as_utc(i.received_at) >= since
        ]
        urgent = []
        for item in urgent_items:
            first = s.exec(select(func.min(EventRow.at)).where(EventRow.item_id == item.id)).one()
            received = as_utc(item.received_at)
            minutes = int(((as_utc(first) if first else now) - received).total_seconds() // 60)
            urgent.append(
                {
                    "item": item.id,
                    "title": item.title,
                    "received_at": received.astimezone(tz).isoformat(),
                    "first_decision_minutes": minutes if first else None,
                    "state": f"decided after {minutes} min" if first else f"waiting {minutes} min",
                }
            )
    last_poll = dt.datetime.fromisoformat(last.value) if last else None
    stale_after = dt.timedelta(seconds=max(300, 10 * rt.config.mailbox.poll_interval, 1800))
    if last_poll is None:
        problems.append("no successful poll yet")
    elif now - last_poll > stale_after:
        problems.append(f"last successful poll {int((now - last_poll).total_seconds() // 60)} min ago")
    if ob.oldest_queued is not None and now - as_utc(ob.oldest_queued) > STUCK_OUTBOX:
        problems.append(
            f"outbox stuck: oldest mail queued since {as_utc(ob.oldest_queued).astimezone(tz):%Y-%m-%d %H:%M}"
        )
    trigger = CronTrigger.from_crontab(rt.config.bulletin.schedule, timezone=tz)
    nxt = trigger.get_next_fire_time(None, now.astimezone(tz))
    return {
        "healthy": not problems,
        "problems": problems,
        "last_poll": last_poll.astimezone(tz).isoformat() if last_poll else None,
        "idle": (idle.value == "yes") if idle else None,
        "pending_review": int(pending),
        "outbox": {
            "queued": ob.queued,
            "oldest_queued": as_utc(ob.oldest_queued).astimezone(tz).isoformat()
            if ob.oldest_queued
            else None,
            "dead": ob.dead,
        },
        "failed_mails": int(failed),
        "bouncing": bouncing,
        "next_bulletin": nxt.isoformat() if nxt else None,
        "urgent": urgent,
        "daemon": json.loads(d.value) if (d := _daemon(rt)) else None,
    }


def _daemon(rt: Runtime) -> Setting | None:
    with session_scope(rt.engine) as s:
        return s.get(Setting, "daemon")
