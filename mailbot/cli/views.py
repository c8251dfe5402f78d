"""The JSON shapes of SPEC §8 (a contract: scripts rely on them), built from database rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mailbot.shell.db.models import AttachmentRow, EventRow, Item, MessageRow


def iso(t: dt.datetime | None, tz: dt.tzinfo) -> str | None:
    """ISO 8601 in the office time zone (naive values from SQLite are UTC)."""
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(tz).isoformat()


def item_summary(item: Item, *, score: float | None, reason: str | None, tz: dt.tzinfo) -> dict[str, Any]:
    """One object of `items list --json`."""
    return {
        "id": item.id,
        "unit": item.unit_id,
        "unit_name": item.unit_name,
        "title": item.title,
        "status": item.status,
        "received_at": iso(item.received_at, tz),
        "urgent": item.urgent,
        "score": score,
        "message_id": item.message_id,
        "flags": list(item.flags),
        "reason": reason,
        "from": item.from_addr,
        "category": item.category,
        "yuegao": item.yuegao_no,
        "correction_of": item.correction_of,
        "similar_to": item.similar_to,
        "similarity": item.similarity,
    }


def item_detail(
    item: Item,
    *,
    score: float | None,
    reason: str | None,
    attachments: list[AttachmentRow],
    events: list[tuple[EventRow, float | None]],
    tz: dt.tzinfo,
) -> dict[str, Any]:
    """The object of `items show --json`."""
    out = item_summary(item, score=score, reason=reason, tz=tz)
    out["fields"] = {
        "标题": item.title,
        "单位": item.unit_name,
        "签发人": item.signer,
        "报送人": item.reporter,
        "电话": item.phone,
        "日期": item.written_date.isoformat() if item.written_date else None,
    }
    out["text"] = item.text
    out["cover_note"] = item.cover_note
    out["text_note"] = item.text_note
    out["attachments"] = [a.filename for a in attachments]
    out["events"] = [
        {
            "command": ev.source or ev.kind,
            "kind": ev.kind,
            "args": ev.args,
            "by": ev.by,
            "at": iso(ev.at, tz),
            "points": points,
        }
        for ev, points in events
    ]
    return out


def message_summary(row: MessageRow, *, tz: dt.tzinfo) -> dict[str, Any]:
    """One object of `messages list --json`."""
    return {
        "message_id": row.message_id,
        "from": row.from_addr,
        "subject": row.subject,
        "received_at": iso(row.received_at, tz),
        "disposition": row.disposition,
        "item": row.item_id,
        "reason": row.reason,
        "rule": row.rule,
        "attempts": row.attempts,
        "sha256": row.sha256,
    }
