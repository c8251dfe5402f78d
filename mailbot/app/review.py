"""Review by reply: review requests out, reviewers' decisions in (SPEC §3).

Decisions are append-only events; the item's status is recomputed from all
of its events after each change. A reply mail is applied at most once because
its message row (unique sha256 and Message-ID) is written in the same
transaction as its events.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import assert_never

from sqlmodel import Session

from mailbot.app import mailer, notices
from mailbot.app.context import Runtime
from mailbot.app.scorebook import item_points
from mailbot.core import letters
from mailbot.core.errors import CommandError
from mailbot.core.mail.mime import ParsedMail
from mailbot.core.review import authority, ledger
from mailbot.core.review.decisions import (
    Decision,
    Help,
    describe,
)
from mailbot.core.review.replies import parse_commands
from mailbot.core.review.status import IN_REVIEW
from mailbot.core.submission.triage import Reply
from mailbot.shell.db.convert import decision_args, item_facts, ledger_events
from mailbot.shell.db.models import (
    Disposition,
    EventRow,
    Item,
    MessageRow,
)
from mailbot.shell.db.store import session_scope

log = logging.getLogger(__name__)

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
    if item.status in IN_REVIEW:
        item.status = ledger.item_status(ledger_events(s, item.id))
        s.add(item)
    applied = Applied(item, tuple(decisions), old, item.status, tuple(ids))
    # Whenever what the officer sees changed (status, where adopted, reason, points), not only the status.
    notices.queue_officer_notice(rt, s, item, told, ids)
    return applied


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
        if mailer.may_answer(rt, s, mail.from_addr, per_day=rt.config.smtp.max_per_address_per_day):
            # A non-reviewer is answered once per item: an unmarked auto-responder must not loop.
            mailer.queue(
                rt,
                s,
                letters.reply_error(
                    detail=detail,
                    to=mail.from_addr,
                    subject=mail.subject,
                    in_reply_to=mail.message_id,
                    item_id=item.id if item else None,
                    sha256=row.sha256,
                    once_per_item=rule == "not_reviewer",
                ),
            )

    ruling = authority.may_decide(
        policy(rt),
        sender=mail.from_addr,
        from_reviewer=verdict.from_reviewer,
        auth_results=list(mail.headers.get("authentication-results", ())),
        item_ref=item_id,
        item_found=item is not None,
    )
    if isinstance(ruling, authority.Refused):
        refuse(str(ruling.rule), *_refusal_text(ruling, mail.from_addr, cfg.authserv_id))
        return
    assert item is not None  # may_decide allows only a reply about an item on file
    try:
        decisions = parse_commands(mail.text, rt.vocabulary())
    except CommandError as exc:
        refuse("bad_command", f"无法识别的审核指令：{exc.detail}", f"未能执行您的回复：{exc.detail}")
        return
    if all(isinstance(d, Help) for d in decisions):
        row.disposition, row.item_id, row.reason = Disposition.DECISION, item.id, "帮助"
        help_letter = letters.reply_help(
            to=mail.from_addr, subject=mail.subject, in_reply_to=mail.message_id, item_id=item.id, sha256=row.sha256
        )
        mailer.queue(rt, s, help_letter)
        return
    applied = apply_decisions(rt, s, item, decisions, by=mail.from_addr, at=received, message_row_id=row.id)
    row.disposition, row.item_id = Disposition.DECISION, item.id
    row.reason = "；".join(describe(d) for d in decisions)
    queue_confirmation(rt, s, applied, to=mail.from_addr, in_reply_to=mail.message_id, key=row.sha256)


def policy(rt: Runtime) -> authority.Policy:
    """Who may decide, from [review]."""
    cfg = rt.config.review
    return authority.Policy(
        tuple(cfg.reviewers), tuple(cfg.urgent), cfg.require_authenticated_sender, cfg.authserv_id
    )


def _refusal_text(ruling: authority.Refused, sender: str, authserv_id: str) -> tuple[str, str]:
    """What the message row records and what the sender is told, for a reply that decides nothing."""
    item_id = ruling.item_ref
    match ruling.rule:
        case authority.Refusal.NOT_REVIEWER:
            return (
                f"非审核人回复（{sender}），已记录，未执行",
                "您的回复已收到并记录。审核决定只能由信息科登记的审核人作出，本回复未作为审核决定执行。"
                "如有问题请直接联系信息科。",
            )
        case authority.Refusal.UNAUTHENTICATED:
            return (
                f"发件人未通过 DKIM/SPF 验证（{authserv_id}），未执行",
                "本回复未能通过发件人身份验证（DKIM/SPF），未作为审核决定执行。如确为本人发送，请从单位邮箱重新回复。",
            )
        case authority.Refusal.NO_ITEM:
            return (
                f"找不到对应的信息（{item_id or '主题中无编号'}）",
                f"未能找到本回复对应的信息{('（编号 ' + item_id + '）') if item_id else ''}。请直接回复审核通知邮件，"
                "或在主题中保留 [待审#编号]。",
            )
    assert_never(ruling.rule)


def queue_confirmation(
    rt: Runtime, s: Session, applied: Applied, *, to: str, in_reply_to: str | None, key: str
) -> None:
    """Tell the reviewer what was applied and the item's new state and points."""
    item = applied.item
    mailer.queue(
        rt,
        s,
        letters.confirmation(
            item_facts(item),
            decisions=applied.decisions,
            status=item.status,
            points=item_points(rt, s, item.id),
            to=to,
            in_reply_to=in_reply_to,
            key=key,
        ),
    )


# `mailbot decide`: a decision that arrived on paper, through the same path as a reply mail.


@dataclass(frozen=True, slots=True)
class Decided:
    """What `decide` did: the decisions applied and the item's points after them."""

    applied: Applied
    points: float | None


def decide(
    rt: Runtime, item_id: str, decisions: Sequence[Decision], *, by: str, at: dt.datetime, source: str
) -> Decided | None:
    """Apply decisions to an item in their own transaction; None when there is no such item."""
    with session_scope(rt.engine) as s:
        item = s.get(Item, item_id)
        if item is None or item.id.startswith("R"):
            return None
        applied = apply_decisions(rt, s, item, decisions, by=by, at=at, sources=[source])
        return Decided(applied, item_points(rt, s, item.id))
