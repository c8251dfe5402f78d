"""The mails an incoming mail causes: receipts, refusal replies, review requests, urgent alerts,
and the officer's notices of decisions on their item.

Each is written by mailbot/core/letters from this module's rows and queued by the mailer inside
the caller's transaction, under its dedupe key, so redoing the work after a crash queues nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from pathlib import Path

from sqlmodel import Session, select

from mailbot.app import mailer
from mailbot.app.context import Runtime
from mailbot.app.scorebook import Scorebook
from mailbot.core import letters
from mailbot.core.mail.mime import ParsedMail
from mailbot.core.review.officer import OfficerView, is_news, officer_changes, officer_view
from mailbot.core.submission.refusals import RULES
from mailbot.core.submission.triage import Ignore, Refuse, Submission
from mailbot.shell.db.convert import item_facts, ledger_events
from mailbot.shell.db.models import AttachmentRow, Bounce, Item, MessageRow, YuegaoRow

log = logging.getLogger(__name__)

def queue_refusal(
    rt: Runtime, s: Session, row: MessageRow, mail: ParsedMail, verdict: Refuse, received: dt.datetime
) -> None:
    """Answer a refused mail with the rule, what was seen and a correct example."""
    err = verdict.error
    rule = RULES.get(err.rule)
    if rule is None or not rule.reply or not verdict.answer:
        return
    # Unknown senders are where spam and forgeries come from: one answer a day at most (no backscatter).
    per_day = 1 if err.rule == "unknown_sender" or verdict.stranger else rt.config.smtp.max_per_address_per_day
    if not mailer.may_answer(rt, s, mail.from_addr, per_day=per_day):
        row.reason = (row.reason or "") + "（今日已回复过该地址，未再回复）"
        return
    mailer.queue(
        rt,
        s,
        letters.refusal(
            rule=rule,
            error=err,
            to=mail.from_addr,
            subject=mail.subject,
            message_id=mail.message_id,
            references=mail.references,
            received_at=rt.local(received),
            sha256=row.sha256,
            unit=verdict.unit.name if verdict.unit else _example_unit(rt),
            short_office=rt.config.office.short_name,
        ),
    )


def _example_unit(rt: Runtime) -> str:
    """The unit a refusal's example names when the sender's own is not known (config office.example_unit)."""
    if rt.config.office.example_unit:
        return rt.config.office.example_unit
    units = rt.directory().units
    return units[0].name if units else ""


def queue_accepted(rt: Runtime, s: Session, item: Item, sub: Submission, received: dt.datetime) -> None:
    """Receipt to the officer, alerts to the duty editors (urgent), review requests to reviewers."""
    urgent = item.urgent
    if urgent:
        for addr in rt.config.review.urgent:
            queue_request(rt, s, item, sub, to=addr, alert=True)
    mailer.queue(
        rt,
        s,
        letters.receipt(
            item_facts(item),
            fields=sub.fields,
            received_at=rt.local(received),
            document=(sub.document.filename or sub.document.safe_name) if sub.document else "",
        ),
    )
    for addr in rt.config.review.reviewers:
        queue_request(rt, s, item, sub, to=addr, alert=False)


def queue_request(
    rt: Runtime, s: Session, item: Item, sub: Submission | None, *, to: str, alert: bool
) -> None:
    """A review request (or, for urgent items, the duty alert) to one reviewer, with the item's files."""
    files: list[tuple[str, str, bytes]] = []
    for att in s.exec(select(AttachmentRow).where(AttachmentRow.item_id == item.id)).all():
        try:
            # The sanitised name: a hostile one (../../x.jpg) must not reach reviewers' clients either.
            files.append((att.safe_name, att.content_type, Path(att.path).read_bytes()))
        except OSError:
            log.warning("item %s: attachment %s missing from the archive", item.id, att.path)
    request = s.get(YuegaoRow, item.yuegao_no) if item.yuegao_no is not None else None
    write = letters.urgent_alert if alert else letters.review_request
    mailer.queue(
        rt,
        s,
        write(
            item_facts(item),
            to=to,
            received_at=rt.local(item.received_at.replace(tzinfo=item.received_at.tzinfo or dt.UTC)),
            files=files,
            earlier=ledger_events(s, item.correction_of) if item.correction_of else (),
            yuegao=letters.YuegaoRef(request.id, request.title, request.due) if request is not None else None,
        ),
    )


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


# ---------------------------------------------------------------- the officer's notices
#
# What the officer sees of their item and when that is news: core/review/officer.py.


def officer_state(rt: Runtime, s: Session, item: Item) -> OfficerView:
    """The officer's view of `item` as the database holds it now."""
    scored, events = Scorebook(rt, s).item_and_events(item.id)
    if scored is None:  # cannot happen for an item of this session; said rather than assumed
        raise LookupError(f"item {item.id} is not in the database")
    return officer_view(item.status, scored, events, rt.rules)


def queue_officer_notice(
    rt: Runtime, s: Session, item: Item, before: OfficerView, event_ids: Sequence[int]
) -> bool:
    """Tell the officer what decisions `event_ids` changed on their item; nothing if nothing they see changed."""
    after = officer_state(rt, s, item)
    if not event_ids or not is_news(before, after):
        return False
    mailer.queue(
        rt,
        s,
        letters.officer_notice(
            item_facts(item),
            event_id=event_ids[-1],
            status=after.status,
            previous=before.status,
            changes=officer_changes(before, after, set(event_ids), rt.rules),
            where=after.where,
            reason=after.reason,
            points=after.points,
            previous_points=before.points,
        ),
    )
    return True
