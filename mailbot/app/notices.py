"""The mails an incoming mail causes: receipts, refusal replies, review requests, urgent alerts,
and the officer's notices of decisions on their item.

Each is composed from templates and put in the outbox inside the caller's
transaction, under a dedupe key, so redoing the work after a crash queues nothing twice.
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
from mailbot.core.mail.mime import ParsedMail
from mailbot.core.review.decisions import describe
from mailbot.core.review.officer import OfficerView, is_news, officer_changes, officer_view
from mailbot.core.review.replies import COMMAND_TABLE
from mailbot.core.submission.refusals import RULES, example_positional, example_subject, refusal_subject
from mailbot.core.submission.triage import Ignore, Refuse, Submission
from mailbot.shell.db.convert import ledger_events
from mailbot.shell.db.models import AttachmentRow, Bounce, Item, ItemStatus, MessageRow, YuegaoRow

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
    unit = verdict.unit.name if verdict.unit else "越秀区政府"
    date = rt.local(received).date().isoformat()
    mailer.queue(
        rt,
        s,
        kind="refusal",
        dedupe_key=f"refusal:{row.sha256}",
        to=mail.from_addr,
        subject=refusal_subject(rule.name, mail.subject),
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
    urgent = item.urgent
    if urgent:
        for addr in rt.config.review.urgent:
            queue_request(rt, s, item, sub, to=addr, alert=True)
    mailer.queue(
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
        priority=mailer.PRIORITY_RECEIPT_URGENT if urgent else mailer.PRIORITY_NORMAL,
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
    prefix = "【紧急】" if alert else ""
    mailer.queue(
        rt,
        s,
        kind="alert" if alert else "review",
        dedupe_key=f"{'alert' if alert else 'review'}:{item.id}:{to}",
        to=to,
        subject=f"{prefix}[待审#{item.id}] {item.title}（{item.unit_name}）"[:250],
        template="review_request",
        context={
            "item": item,
            "alert": alert,
            "commands": COMMAND_TABLE,
            "received_at": rt.local(item.received_at.replace(tzinfo=item.received_at.tzinfo or dt.UTC)),
            "attachments": [f[0] for f in files],
            "old_decisions": [
                f"{describe(e.decision)}（{e.by}）" for e in ledger_events(s, item.correction_of)
            ]
            if item.correction_of
            else [],
            "yuegao": _yuegao_line(s, item),
        },
        item_id=item.id,
        attachments=files,
        priority=mailer.PRIORITY_ALERT if alert else mailer.PRIORITY_NORMAL,
    )


def _yuegao_line(s: Session, item: Item) -> str:
    """What the reviewers read about the 约稿 an item answers ('' when it claims none)."""
    request = s.get(YuegaoRow, item.yuegao_no) if item.yuegao_no is not None else None
    if request is not None:
        due = f"{request.due.year}年{request.due.month}月{request.due.day}日"
        late = "（超时报送，不计约稿加分）" if "约稿超时" in item.flags else ""
        return f"答复约稿#{request.id}《{request.title}》，截止 {due}{late}"
    if any(f.startswith("约稿待核") for f in item.flags):
        return "标注了约稿但核对不上（见上方标记），未计为约稿稿件；如确属约稿，请回复“约稿”"
    return ""


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


_SUBJECT: dict[tuple[bool, str], str] = {
    (True, ItemStatus.ADOPTED): "已采用",
    (True, ItemStatus.REJECTED): "未采用",
    (True, ItemStatus.PENDING): "恢复待审",
    (False, ItemStatus.ADOPTED): "采用情况更新",
}


def queue_officer_notice(
    rt: Runtime, s: Session, item: Item, before: OfficerView, event_ids: Sequence[int]
) -> bool:
    """Tell the officer what decisions `event_ids` changed on their item; nothing if nothing they see changed."""
    after = officer_state(rt, s, item)
    if not event_ids or not is_news(before, after):
        return False
    moved = after.status != before.status
    # "原 M 分" only where the officer had been told M: their item was adopted, or had points.
    told_points = before.status == ItemStatus.ADOPTED or bool(before.points)
    mailer.queue(
        rt,
        s,
        kind="notice",
        # The last event of the batch: unique per reply line, so a redelivered reply queues nothing new.
        dedupe_key=f"notice:{item.id}:{event_ids[-1]}",
        to=item.from_addr,
        subject=f"[报送#{item.id}] {_SUBJECT.get((moved, after.status), '审核情况更新')}：{item.title}"[:200],
        template="notice",
        context={
            "item": item,
            "status": str(after.status),
            "previous": str(before.status),
            "moved": moved,
            "adopted": after.status == ItemStatus.ADOPTED,
            "changes": officer_changes(before, after, set(event_ids), rt.rules),
            "where": list(after.where),
            "reason": after.reason,
            "points": after.points,
            "old_points": before.points if told_points and before.points != after.points else None,
            "show_points": after.points is not None
            and (after.status == ItemStatus.ADOPTED or after.points != before.points),
        },
        item_id=item.id,
        in_reply_to=item.message_id,
    )
    return True
