"""Review by reply: review requests out, reviewers' decisions in (SPEC §3).

Decisions are append-only events; the item's status is recomputed from all
of its events after each change. A reply mail is applied at most once because
its message row (unique sha256 and Message-ID) is written in the same
transaction as its events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from mailbot.app import notices
from mailbot.app.context import Runtime
from mailbot.core.errors import CommandError
from mailbot.core.mail.authresults import sender_authenticated
from mailbot.core.mail.mime import ParsedMail
from mailbot.core.review import ledger
from mailbot.core.review.decisions import (
    Adopt,
    Commission,
    Decision,
    Forward,
    Help,
    Instruct,
    Kind,
    Penalty,
    Reject,
    Undo,
    UpperAdopt,
    describe,
)
from mailbot.core.review.replies import COMMAND_TABLE, parse_commands
from mailbot.core.submission.triage import Reply, Submission
from mailbot.shell.clock import as_utc
from mailbot.shell.db.models import (
    AttachmentRow,
    Disposition,
    EventRow,
    Item,
    ItemStatus,
    MessageRow,
    YuegaoRow,
)

log = logging.getLogger(__name__)

_DECISION_TYPES: dict[str, type] = {
    Kind.ADOPT: Adopt,
    Kind.REJECT: Reject,
    Kind.INSTRUCT: Instruct,
    Kind.UPPER_ADOPT: UpperAdopt,
    Kind.FORWARD: Forward,
    Kind.COMMISSION: Commission,
    Kind.PENALTY: Penalty,
    Kind.UNDO: Undo,
    Kind.HELP: Help,
}


def decision_args(decision: Decision) -> dict[str, Any]:
    """The decision's arguments as stored in the event row."""
    return {k: v for k, v in dataclasses.asdict(decision).items() if k != "kind"}


def decision_of(row: EventRow) -> Decision:
    """Rebuild the typed decision from an event row."""
    cls = _DECISION_TYPES[row.kind]
    return cls(**row.args)


def ledger_event(row: EventRow) -> ledger.Event:
    """An event row as a ledger event (SQLite hands back naive UTC times)."""
    return ledger.Event(row.item_id, row.id or 0, as_utc(row.at), row.by, decision_of(row))


def ledger_events(s: Session, item_id: str) -> list[ledger.Event]:
    """All events of one item, as ledger events."""
    rows = s.exec(select(EventRow).where(EventRow.item_id == item_id).order_by(col(EventRow.id))).all()
    return [ledger_event(r) for r in rows]


@dataclass(frozen=True, slots=True)
class Applied:
    """What applying decisions did to an item."""

    item: Item
    decisions: tuple[Decision, ...]
    old_status: str
    new_status: str
    event_ids: tuple[int, ...]


def apply_decisions(
    rt: Runtime,
    s: Session,
    item: Item,
    decisions: Sequence[Decision],
    *,
    by: str,
    at: dt.datetime,
    sources: Sequence[str] = (),
    message_row_id: int | None = None,
) -> Applied:
    """Record decisions as events, recompute the item's status, queue the officer's notice."""
    old = item.status
    told = notices.officer_state(rt, s, item)
    ids: list[int] = []
    for n, decision in enumerate(decisions):
        if isinstance(decision, Help):
            continue
        ev = EventRow(
            item_id=item.id,
            kind=str(decision.kind),
            args=decision_args(decision),
            by=by.lower(),
            at=at,
            source=sources[n] if n < len(sources) else describe(decision),
            message_row_id=message_row_id,
            line_no=n,
        )
        s.add(ev)
        s.flush()
        ids.append(ev.id or 0)
    if item.status in {ItemStatus.PENDING, ItemStatus.ADOPTED, ItemStatus.REJECTED}:
        item.status = ledger.item_status(ledger_events(s, item.id))
        s.add(item)
    applied = Applied(item, tuple(decisions), old, item.status, tuple(ids))
    # Whenever what the officer sees changed (status, where adopted, reason, points), not only the status.
    notices.queue_officer_notice(rt, s, item, told, ids)
    return applied


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
    notices.queue(
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
        priority=notices.PRIORITY_ALERT if alert else notices.PRIORITY_NORMAL,
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


def handle_reply(
    rt: Runtime,
    s: Session,
    row: MessageRow,
    mail: ParsedMail,
    verdict: Reply,
    refers: str | None,
    received: dt.datetime,
) -> None:
    """Apply a reviewer's reply, or record and politely answer one that cannot be applied."""
    item_id = refers or verdict.item_ref
    item = s.get(Item, item_id) if item_id else None
    cfg = rt.config.review

    def refuse(rule: str, reason: str, detail: str) -> None:
        row.disposition, row.rule, row.reason = Disposition.REFUSED, rule, reason
        row.item_id = item.id if item else None
        if notices.may_answer(rt, s, mail.from_addr, per_day=rt.config.smtp.max_per_address_per_day):
            # A non-reviewer is answered once per item: an unmarked auto-responder must not loop.
            key = (
                f"reply-error:{item.id if item else '-'}:{mail.from_addr}" if rule == "not_reviewer" else None
            )
            _queue_reply_error(rt, s, row, mail, item, detail, key=key)

    if not verdict.from_reviewer:
        refuse(
            "not_reviewer",
            f"非审核人回复（{mail.from_addr}），已记录，未执行",
            "您的回复已收到并记录。审核决定只能由信息科登记的审核人作出，本回复未作为审核决定执行。"
            "如有问题请直接联系信息科。",
        )
        return
    if cfg.require_authenticated_sender and not sender_authenticated(
        list(mail.headers.get("authentication-results", ())), cfg.authserv_id, mail.from_addr
    ):
        refuse(
            "unauthenticated",
            f"发件人未通过 DKIM/SPF 验证（{cfg.authserv_id}），未执行",
            "本回复未能通过发件人身份验证（DKIM/SPF），未作为审核决定执行。如确为本人发送，请从单位邮箱重新回复。",
        )
        return
    if item is None:
        refuse(
            "no_item",
            f"找不到对应的信息（{item_id or '主题中无编号'}）",
            f"未能找到本回复对应的信息{('（编号 ' + item_id + '）') if item_id else ''}。请直接回复审核通知邮件，"
            "或在主题中保留 [待审#编号]。",
        )
        return
    try:
        decisions = parse_commands(mail.text, rt.vocabulary())
    except CommandError as exc:
        refuse("bad_command", f"无法识别的审核指令：{exc.detail}", f"未能执行您的回复：{exc.detail}")
        return
    if all(isinstance(d, Help) for d in decisions):
        row.disposition, row.item_id, row.reason = Disposition.DECISION, item.id, "帮助"
        _queue_reply_error(rt, s, row, mail, item, "审核指令如下。", heading="审核指令表")
        return
    applied = apply_decisions(rt, s, item, decisions, by=mail.from_addr, at=received, message_row_id=row.id)
    row.disposition, row.item_id = Disposition.DECISION, item.id
    row.reason = "；".join(describe(d) for d in decisions)
    queue_confirmation(rt, s, applied, to=mail.from_addr, in_reply_to=mail.message_id, key=row.sha256)


def queue_confirmation(
    rt: Runtime, s: Session, applied: Applied, *, to: str, in_reply_to: str | None, key: str
) -> None:
    """Tell the reviewer what was applied and the item's new state and points."""
    from mailbot.app.scorebook import item_points

    item = applied.item
    notices.queue(
        rt,
        s,
        kind="confirm",
        dedupe_key=f"confirm:{key}",
        to=to,
        subject=f"[报送#{item.id}] 已执行：{'；'.join(describe(d) for d in applied.decisions)}"[:200],
        template="confirm",
        context={
            "item": item,
            "decisions": [describe(d) for d in applied.decisions],
            "status": _STATUS_CN.get(item.status, item.status),
            "points": item_points(rt, s, item.id),
        },
        item_id=item.id,
        in_reply_to=in_reply_to,
    )


_STATUS_CN = {
    "pending": "待审",
    "adopted": "已采用",
    "rejected": "未采用",
    "superseded": "已被更正替代",
    "refused": "未登记",
    "quarantined": "已隔离",
}


def _queue_reply_error(
    rt: Runtime,
    s: Session,
    row: MessageRow,
    mail: ParsedMail,
    item: Item | None,
    detail: str,
    *,
    key: str | None = None,
    heading: str = "回复未执行",
) -> None:
    notices.queue(
        rt,
        s,
        kind="reply-error",
        dedupe_key=key or f"reply-error:{row.sha256}",
        to=mail.from_addr,
        subject=f"{'[报送#' + item.id + '] ' if item else ''}{heading}：{mail.subject}"[:200],
        template="reply_error",
        context={"detail": detail, "commands": COMMAND_TABLE, "subject": mail.subject},
        item_id=item.id if item else None,
        in_reply_to=mail.message_id or None,
    )
