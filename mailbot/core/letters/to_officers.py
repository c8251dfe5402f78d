"""The mails to the officer who submitted: the receipt, the refusal reply, the notice of decisions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from mailbot.core.errors import QuarantinedMail, RefusedMail
from mailbot.core.letters.letter import ItemFacts, Letter, Priority
from mailbot.core.review.status import ItemStatus
from mailbot.core.submission.refusals import Rule, example_positional, example_subject, refusal_subject
from mailbot.core.submission.subject import OFFICER_TAG, Fields, item_subject


def receipt(item: ItemFacts, *, fields: Fields, received_at: dt.datetime, document: str) -> Letter:
    """The receipt: the item's number and the fields as read (`received_at` in office time)."""
    return Letter(
        kind="receipt",
        dedupe_key=f"receipt:{item.id}",
        to=item.from_addr,
        subject=item_subject(OFFICER_TAG, item.id, f"已收到：{item.title}")[:200],
        template="receipt",
        context={
            "reporter": item.reporter,
            "fields": fields,
            "unit_name": item.unit_name,
            "received_at": received_at,
            "urgent": item.urgent,
            "document": document,
            "text_note": item.text_note,
            "flags": [f for f in item.flags if f != "紧急"],
        },
        item_id=item.id,
        in_reply_to=item.message_id,
        priority=Priority.RECEIPT_URGENT if item.urgent else Priority.NORMAL,
    )


def refusal(
    *,
    rule: Rule,
    error: RefusedMail,
    to: str,
    subject: str,
    message_id: str,
    references: Sequence[str],
    received_at: dt.datetime,
    sha256: str,
    unit: str,
    short_office: str,
) -> Letter:
    """The answer to a refused mail: the rule, what was seen and a correct example naming `unit`.

    `received_at` is in office time; `short_office` is where officers are registered (office.short_name).
    """
    date = received_at.date().isoformat()
    return Letter(
        kind="refusal",
        dedupe_key=f"refusal:{sha256}",
        to=to,
        subject=refusal_subject(rule.name, subject),
        template="refusal",
        context={
            "received_at": received_at,
            "rule_name": rule.name,
            "detail": error.detail,
            # Classified content goes nowhere, not even back in the answer.
            "seen": "" if isinstance(error, QuarantinedMail) else error.seen,
            "fix": rule.advice(short_office),
            "show_example": error.rule not in {"classified", "unknown_sender"},
            "example": example_subject(unit, date),
            "example_positional": example_positional(unit, date),
            "subject": subject,
        },
        in_reply_to=message_id or None,
        references=tuple(references),
    )


# What the officer's notice leads with: (status changed?, new status) -> headline.
_NOTICE_HEADLINE: dict[tuple[bool, str], str] = {
    (True, ItemStatus.ADOPTED): "已采用",
    (True, ItemStatus.REJECTED): "未采用",
    (True, ItemStatus.PENDING): "恢复待审",
    (False, ItemStatus.ADOPTED): "采用情况更新",
}


def officer_notice(
    item: ItemFacts,
    *,
    event_id: int,
    status: str,
    previous: str,
    changes: Sequence[str],
    where: Sequence[str],
    reason: str,
    points: Decimal | None,
    previous_points: Decimal | None,
) -> Letter:
    """The officer's notice of decisions on their item; `event_id` is the last event of the batch."""
    moved = status != previous
    # "原 M 分" only where the officer had been told M: their item was adopted, or had points.
    told_points = previous == ItemStatus.ADOPTED or bool(previous_points)
    return Letter(
        kind="notice",
        # Unique per reply line, so a redelivered reply queues nothing new.
        dedupe_key=f"notice:{item.id}:{event_id}",
        to=item.from_addr,
        subject=item_subject(
            OFFICER_TAG, item.id, f"{_NOTICE_HEADLINE.get((moved, status), '审核情况更新')}：{item.title}"
        )[:200],
        template="notice",
        context={
            "item": item,
            "status": str(status),
            "previous": str(previous),
            "moved": moved,
            "adopted": status == ItemStatus.ADOPTED,
            "changes": list(changes),
            "where": list(where),
            "reason": reason,
            "points": points,
            "old_points": previous_points if told_points and previous_points != points else None,
            "show_points": points is not None and (status == ItemStatus.ADOPTED or points != previous_points),
        },
        item_id=item.id,
        in_reply_to=item.message_id,
    )
