"""The mails to reviewers: review requests, urgent alerts, confirmations, and answers to replies not applied."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from mailbot.core.letters.letter import File, ItemFacts, Letter, Priority, YuegaoRef
from mailbot.core.review import ledger
from mailbot.core.review.decisions import Decision, describe
from mailbot.core.review.replies import COMMAND_TABLE
from mailbot.core.review.status import label
from mailbot.core.submission.subject import OFFICER_TAG, REVIEWER_TAG, item_subject


def yuegao_line(item: ItemFacts, request: YuegaoRef | None) -> str:
    """What the reviewers read about the 约稿 an item answers ('' when it claims none)."""
    if request is not None:
        due = f"{request.due.year}年{request.due.month}月{request.due.day}日"
        late = "（超时报送，不计约稿加分）" if "约稿超时" in item.flags else ""
        return f"答复约稿#{request.number}《{request.title}》，截止 {due}{late}"
    if any(f.startswith("约稿待核") for f in item.flags):
        return "标注了约稿但核对不上（见上方标记），未计为约稿稿件；如确属约稿，请回复“约稿”"
    return ""


def _request(
    item: ItemFacts,
    *,
    alert: bool,
    to: str,
    received_at: dt.datetime,
    files: Sequence[File],
    earlier: Sequence[ledger.Event],
    yuegao: YuegaoRef | None,
) -> Letter:
    kind = "alert" if alert else "review"
    return Letter(
        kind=kind,
        dedupe_key=f"{kind}:{item.id}:{to}",
        to=to,
        subject=(
            ("【紧急】" if alert else "")
            + item_subject(REVIEWER_TAG, item.id, f"{item.title}（{item.unit_name}）")
        )[:250],
        template="review_request",
        context={
            "item": item,
            "alert": alert,
            "commands": COMMAND_TABLE,
            "received_at": received_at,
            "attachments": [f[0] for f in files],
            "old_decisions": [f"{describe(e.decision)}（{e.by}）" for e in earlier],
            "yuegao": yuegao_line(item, yuegao),
        },
        item_id=item.id,
        attachments=tuple(files),
        priority=Priority.ALERT if alert else Priority.NORMAL,
    )


def review_request(
    item: ItemFacts,
    *,
    to: str,
    received_at: dt.datetime,
    files: Sequence[File] = (),
    earlier: Sequence[ledger.Event] = (),
    yuegao: YuegaoRef | None = None,
) -> Letter:
    """A review request to one reviewer with the item's files; `earlier`: decisions on the item it corrects."""
    return _request(
        item, alert=False, to=to, received_at=received_at, files=files, earlier=earlier, yuegao=yuegao
    )


def urgent_alert(
    item: ItemFacts,
    *,
    to: str,
    received_at: dt.datetime,
    files: Sequence[File] = (),
    earlier: Sequence[ledger.Event] = (),
    yuegao: YuegaoRef | None = None,
) -> Letter:
    """The review request of an urgent item to one duty editor, marked 【紧急】 and sent first."""
    return _request(
        item, alert=True, to=to, received_at=received_at, files=files, earlier=earlier, yuegao=yuegao
    )


def confirmation(
    item: ItemFacts,
    *,
    decisions: Sequence[Decision],
    status: str,
    points: float | None,
    to: str,
    in_reply_to: str | None,
    key: str,
) -> Letter:
    """Tell a reviewer what their reply did and the item's new state and points (`key`: the reply's sha256)."""
    said = [describe(d) for d in decisions]
    return Letter(
        kind="confirm",
        dedupe_key=f"confirm:{key}",
        to=to,
        subject=item_subject(OFFICER_TAG, item.id, f"已执行：{'；'.join(said)}")[:200],
        template="confirm",
        context={"item": item, "decisions": said, "status": label(status), "points": points},
        item_id=item.id,
        in_reply_to=in_reply_to,
    )


def _answer(
    *,
    heading: str,
    detail: str,
    to: str,
    subject: str,
    in_reply_to: str,
    item_id: str | None,
    dedupe_key: str,
) -> Letter:
    rest = f"{heading}：{subject}"
    return Letter(
        kind="reply-error",
        dedupe_key=dedupe_key,
        to=to,
        subject=(item_subject(OFFICER_TAG, item_id, rest) if item_id else rest)[:200],
        template="reply_error",
        context={"detail": detail, "commands": COMMAND_TABLE, "subject": subject},
        item_id=item_id,
        in_reply_to=in_reply_to or None,
    )


def reply_error(
    *,
    detail: str,
    to: str,
    subject: str,
    in_reply_to: str,
    item_id: str | None,
    sha256: str,
    once_per_item: bool = False,
) -> Letter:
    """The answer to a reply that was not applied, with the command table.

    `once_per_item`: one answer per (item, sender), not per mail, so an unmarked auto-responder cannot loop.
    """
    key = f"reply-error:{item_id or '-'}:{to}" if once_per_item else f"reply-error:{sha256}"
    return _answer(
        heading="回复未执行",
        detail=detail,
        to=to,
        subject=subject,
        in_reply_to=in_reply_to,
        item_id=item_id,
        dedupe_key=key,
    )


def reply_help(*, to: str, subject: str, in_reply_to: str, item_id: str, sha256: str) -> Letter:
    """The answer to 帮助: the command table."""
    return _answer(
        heading="审核指令表",
        detail="审核指令如下。",
        to=to,
        subject=subject,
        in_reply_to=in_reply_to,
        item_id=item_id,
        dedupe_key=f"reply-error:{sha256}",
    )
