"""The one way mailbot queues a mail: sign its Message-ID, build it, put it in the outbox.

Every mail mailbot sends passes through here, in the caller's transaction and under a dedupe
key, so redoing the work after a crash queues nothing twice. Template mails are rendered by
`queue`; mails rendered elsewhere (the bulletin's copies) use `build` and `enqueue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import Message
from email.utils import parseaddr
from typing import Any

from sqlmodel import Session

from mailbot.app.context import Runtime
from mailbot.core.mail import msgid
from mailbot.shell import compose, outbox

PRIORITY_ALERT, PRIORITY_RECEIPT_URGENT, PRIORITY_NORMAL, PRIORITY_BULLETIN = 0, 1, 5, 9


def sender_address(rt: Runtime) -> str:
    """The bare address of our From."""
    return parseaddr(rt.config.smtp.sender)[1] or rt.config.smtp.sender


def build(
    rt: Runtime,
    *,
    kind: str,
    dedupe_key: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    item_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[tuple[str, str, bytes]] = (),
    auto: str = "auto-replied",
) -> Message:
    """One recipient's mail with our signed, stable Message-ID (the same inputs give the same bytes)."""
    mid = msgid.make(
        rt.secret,
        kind=kind,
        item_id=item_id,
        recipient=to,
        dedupe_key=dedupe_key,
        domain=rt.config.office.domain,
    )
    return compose.build(
        sender=rt.config.smtp.sender,
        to=[to],
        subject=subject,
        text=text,
        html=html,
        message_id=mid,
        now=rt.now().astimezone(rt.config.tz),
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        auto=auto,
    )


def enqueue(
    rt: Runtime,
    s: Session,
    message: Message,
    *,
    kind: str,
    dedupe_key: str,
    to: str,
    item_id: str | None = None,
    priority: int = PRIORITY_NORMAL,
) -> bool:
    """Add a built mail to the outbox unless its dedupe key is there already; True when added."""
    return outbox.enqueue(
        s,
        dedupe_key=dedupe_key,
        kind=kind,
        message=message,
        rcpt_to=[to],
        mail_from=sender_address(rt),
        item_id=item_id,
        priority=priority,
        now=rt.now(),
    )


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
    ctx = {"office": rt.config.office.name, "item_id": item_id, "heading": subject, **context}
    text, html = compose.render(template, ctx)
    message = build(
        rt,
        kind=kind,
        dedupe_key=dedupe_key,
        to=to,
        subject=subject,
        text=text,
        html=html,
        item_id=item_id,
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        auto=auto,
    )
    enqueue(rt, s, message, kind=kind, dedupe_key=dedupe_key, to=to, item_id=item_id, priority=priority)
    return message


def may_answer(rt: Runtime, s: Session, address: str, *, per_day: int) -> bool:
    """The loop guard: automatic replies to one address are capped per day."""
    if not address or "@" not in address:
        return False
    return outbox.sent_today(s, address, rt.now()) < per_day
