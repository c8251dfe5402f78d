"""The one way mailbot queues a mail: render its letter, sign its Message-ID, build it, put it in the outbox.

Every mail mailbot sends is a `Letter` (mailbot/core/letters.py) and passes through here, in the
caller's transaction and under its dedupe key, so redoing the work after a crash queues nothing
twice. Template letters are rendered by `queue`; the bulletin's copies, rendered once for all
units by compose.Copies, use `build` and `enqueue`.
"""

from __future__ import annotations

from email.message import Message
from email.utils import parseaddr

from sqlmodel import Session

from mailbot.app.context import Runtime
from mailbot.core.letters import Letter
from mailbot.core.mail import msgid
from mailbot.shell import compose, outbox


def sender_address(rt: Runtime) -> str:
    """The bare address of our From."""
    return parseaddr(rt.config.smtp.sender)[1] or rt.config.smtp.sender


def build(rt: Runtime, letter: Letter, text: str, html: str | None) -> Message:
    """The letter with its rendered body and our signed, stable Message-ID (same inputs, same bytes)."""
    mid = msgid.make(
        rt.secret,
        kind=letter.kind,
        item_id=letter.item_id,
        recipient=letter.to,
        dedupe_key=letter.dedupe_key,
        domain=rt.config.office.domain,
    )
    return compose.build(
        sender=rt.config.smtp.sender,
        to=[letter.to],
        subject=letter.subject,
        text=text,
        html=html,
        message_id=mid,
        now=rt.now().astimezone(rt.config.tz),
        in_reply_to=letter.in_reply_to,
        references=letter.references,
        attachments=letter.attachments,
        auto=letter.auto,
    )


def enqueue(rt: Runtime, s: Session, message: Message, letter: Letter) -> bool:
    """Add a built letter to the outbox unless its dedupe key is there already; True when added."""
    return outbox.enqueue(
        s,
        dedupe_key=letter.dedupe_key,
        kind=letter.kind,
        message=message,
        rcpt_to=[letter.to],
        mail_from=sender_address(rt),
        item_id=letter.item_id,
        priority=int(letter.priority),
        now=rt.now(),
    )


def queue(rt: Runtime, s: Session, letter: Letter) -> Message:
    """Render the letter's template and add it to the outbox (idempotent by its dedupe key)."""
    if letter.template is None:
        raise ValueError(f"a {letter.kind} letter has no template: build and enqueue its rendered body")
    text, html = compose.render(letter.template, letter.template_context(rt.config.office.name))
    message = build(rt, letter, text, html)
    enqueue(rt, s, message, letter)
    return message


def may_answer(rt: Runtime, s: Session, address: str, *, per_day: int) -> bool:
    """The loop guard: automatic replies to one address are capped per day."""
    if not address or "@" not in address:
        return False
    return outbox.sent_today(s, address, rt.now()) < per_day
