"""The mails an incoming mail causes: receipts, refusal replies, review requests, urgent alerts.

Each is composed from templates and put in the outbox inside the caller's
transaction, under a dedupe key, so redoing the work after a crash queues nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from email.message import Message
from email.utils import parseaddr
from typing import Any

from sqlmodel import Session

from mailbot import compose, msgid, outbox
from mailbot.mime import ParsedMail
from mailbot.models import Bounce, Item, MessageRow
from mailbot.refusals import RULES, example_positional, example_subject
from mailbot.runtime import Runtime
from mailbot.triage import Ignore, Refuse, Submission

log = logging.getLogger(__name__)

PRIORITY_ALERT, PRIORITY_RECEIPT_URGENT, PRIORITY_NORMAL, PRIORITY_BULLETIN = 0, 1, 5, 9


def sender_address(rt: Runtime) -> str:
    """The bare address of our From."""
    return parseaddr(rt.config.smtp.sender)[1] or rt.config.smtp.sender


def queue(
    rt: Runtime,
    s: Session,
    *,
    kind: str,
    dedupe_key: str,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    item_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[tuple[str, str, bytes]] = (),
    priority: int = PRIORITY_NORMAL,
    auto: str = "auto-replied",
) -> Message:
    """Render `template` for one recipient and add it to the outbox (idempotent by dedupe key)."""
    now = rt.now()
    ctx = {"office": rt.config.office.name, "item_id": item_id, "heading": subject, **context}
    text, html = compose.render(template, ctx)
    mid = msgid.make(
        rt.secret,
        kind=kind,
        item_id=item_id,
        recipient=to,
        dedupe_key=dedupe_key,
        domain=rt.config.office.domain,
    )
    message = compose.build(
        sender=rt.config.smtp.sender,
        to=[to],
        subject=subject,
        text=text,
        html=html,
        message_id=mid,
        now=now.astimezone(rt.config.tz),
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        auto=auto,
    )
    outbox.enqueue(
        s,
        dedupe_key=dedupe_key,
        kind=kind,
        message=message,
        rcpt_to=[to],
        mail_from=sender_address(rt),
        item_id=item_id,
        priority=priority,
        now=now,
    )
    return message


def may_answer(rt: Runtime, s: Session, address: str, *, per_day: int) -> bool:
    """The loop guard: automatic replies to one address are capped per day."""
    if not address or "@" not in address:
        return False
    return outbox.sent_today(s, address, rt.now()) < per_day


def queue_refusal(
    rt: Runtime, s: Session, row: MessageRow, mail: ParsedMail, verdict: Refuse, received: dt.datetime
) -> None:
    """Answer a refused mail with the rule, what was seen and a correct example."""
    err = verdict.error
    rule = RULES.get(err.rule)
    if rule is None or not rule.reply or not verdict.answer:
        return
    # Unknown senders are where spam and forgeries come from: one answer a day at most (no backscatter).
    per_day = 1 if err.rule == "unknown_sender" else rt.config.smtp.max_per_address_per_day
    if not may_answer(rt, s, mail.from_addr, per_day=per_day):
        row.reason = (row.reason or "") + "（今日已回复过该地址，未再回复）"
        return
    unit = verdict.unit.name if verdict.unit else "越秀区政府"
    date = rt.local(received).date().isoformat()
    queue(
        rt,
        s,
        kind="refusal",
        dedupe_key=f"refusal:{row.sha256}",
        to=mail.from_addr,
        subject=f"[未能登记] {rule.name}：{mail.subject}"[:200],
        template="refusal",
        context={
            "received_at": rt.local(received),
            "rule_name": rule.name,
            "detail": err.detail,
            "seen": "" if verdict.quarantine else err.seen,
            "fix": rule.fix,
            "show_example": err.rule not in {"classified", "unknown_sender"},
            "example": example_subject(unit, date),
            "example_positional": example_positional(unit, date),
            "subject": mail.subject,
        },
        in_reply_to=mail.message_id or None,
        references=mail.references,
    )


def queue_accepted(rt: Runtime, s: Session, item: Item, sub: Submission, received: dt.datetime) -> None:
    """Receipt to the officer, alerts to the duty editors (urgent), review requests to reviewers."""
    from mailbot import review  # review builds the request body; imported late to keep modules small

    urgent = item.urgent
    if urgent:
        for addr in rt.config.review.urgent:
            review.queue_request(rt, s, item, sub, to=addr, alert=True)
    queue(
        rt,
        s,
        kind="receipt",
        dedupe_key=f"receipt:{item.id}",
        to=item.from_addr,
        subject=f"[报送#{item.id}] 已收到：{item.title}"[:200],
        template="receipt",
        context={
            "reporter": item.reporter,
            "fields": sub.fields,
            "unit_name": item.unit_name,
            "received_at": rt.local(received),
            "urgent": urgent,
            "document": (sub.document.filename or sub.document.safe_name) if sub.document else "",
            "text_note": item.text_note,
            "flags": [f for f in item.flags if f != "紧急"],
        },
        item_id=item.id,
        in_reply_to=item.message_id,
        priority=PRIORITY_RECEIPT_URGENT if urgent else PRIORITY_NORMAL,
    )
    for addr in rt.config.review.reviewers:
        review.queue_request(rt, s, item, sub, to=addr, alert=False)


def note_bounces(s: Session, verdict: Ignore, now: dt.datetime) -> None:
    """Mark the recipients a bounce names as bouncing (shown by `mailbot status`)."""
    for addr in verdict.bounced_recipients:
        addr = addr.lower()
        row = s.get(Bounce, addr)
        if row is None:
            s.add(
                Bounce(
                    address=addr,
                    first_at=now,
                    last_at=now,
                    count=1,
                    last_message_id=verdict.bounced_message_ids[0] if verdict.bounced_message_ids else "",
                )
            )
        else:
            row.count += 1
            row.last_at = now
            s.add(row)
