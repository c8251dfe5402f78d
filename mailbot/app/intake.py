"""One ingestion pass: mailbox → archive → triage → database (+ outbox) → move.

The order is the guarantee. The raw mail is archived (fsync) before anything
else; the message row, the item and every mail it causes are written in ONE
transaction; only after that commit is the mail moved out of the inbox. A
crash anywhere leaves the mail in the inbox, and the next pass finds its row
(by sha256 or Message-ID) and only finishes the move.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import select as sa_select
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailbot.app import notices, review
from mailbot.app.commission import requests
from mailbot.app.context import Runtime
from mailbot.core.mail.mime import ParsedMail, parse_mail
from mailbot.core.mail.msgid import OurId, verify
from mailbot.core.review.status import UNSCORED, ItemStatus
from mailbot.core.scoring import commission
from mailbot.core.submission import correction, similarity
from mailbot.core.submission.refusals import RULES
from mailbot.core.submission.triage import Ignore, Limits, Refuse, Reply, Submission, triage
from mailbot.shell.archive import digest
from mailbot.shell.clock import as_utc
from mailbot.shell.db.convert import commission_response, corrected
from mailbot.shell.db.models import (
    AttachmentRow,
    Disposition,
    Item,
    MessageRow,
    utcnow,
)
from mailbot.shell.db.store import next_value, session_scope
from mailbot.shell.mailbox import Fetched, Mailbox

log = logging.getLogger(__name__)

_FOLDER_OF = {
    Disposition.ITEM: "processed_folder",
    Disposition.DECISION: "processed_folder",
    Disposition.REFUSED: "refused_folder",
    Disposition.QUARANTINED: "refused_folder",
    Disposition.IGNORED: "ignored_folder",
    Disposition.FAILED: "failed_folder",
}


@dataclass
class PassReport:
    """What one pass did, by disposition."""

    counts: dict[str, int] = field(default_factory=dict)
    failed: int = 0

    def add(self, disposition: str) -> None:
        """Count one mail."""
        self.counts[disposition] = self.counts.get(disposition, 0) + 1

    @property
    def total(self) -> int:
        """Mails handled in this pass."""
        return sum(self.counts.values())


def poll_once(
    rt: Runtime,
    stop: threading.Event | None = None,
    boxes: list[Mailbox] | None = None,
    on_filed: Callable[[Mailbox, Fetched, str], None] | None = None,
) -> PassReport:
    """Process every mail in every inbox (or in `boxes`) once; `stop` ends the pass between two mails.

    `on_filed(box, fetched, disposition)` is called after each mail's commit (the daemon wakes its
    sender there for urgent items).
    """
    report = PassReport()
    # With one daemon (SQLite) moves are batched: the database already says where each mail
    # belongs, so a crash before the flush only leaves moves for the next pass to redo. With
    # several daemons (PostgreSQL) each mail is moved at once, inside its claim.
    moves = Moves() if rt.engine.dialect.name == "sqlite" else None
    try:
        for box in boxes if boxes is not None else rt.mailboxes:
            for fetched in box.fetch_new(rt.box_config(box).batch_size):
                disposition = process(rt, fetched, box, moves)
                if disposition != BUSY:
                    report.add(disposition)
                    if on_filed is not None:
                        on_filed(box, fetched, disposition)
                if moves is not None and len(moves) >= rt.box_config(box).batch_size:
                    moves.flush(rt)
                if stop is not None and stop.is_set():
                    return report
    finally:
        if moves is not None:
            moves.flush(rt)
    return report


@dataclass
class Moves:
    """Moves decided by committed rows, waiting to be done in one UID MOVE per folder."""

    pending: dict[tuple[int, str], tuple[Mailbox, list[tuple[str, str]]]] = field(default_factory=dict)

    def add(self, box: Mailbox, folder: str, key: str, sha: str) -> None:
        """Remember that `key` goes to `folder`."""
        self.pending.setdefault((id(box), folder), (box, []))[1].append((key, sha))

    def __len__(self) -> int:
        return sum(len(v[1]) for v in self.pending.values())

    def flush(self, rt: Runtime) -> None:
        """Do the moves, then record them."""
        pending, self.pending = self.pending, {}
        for (_, folder), (box, entries) in pending.items():
            box.move_many([k for k, _ in entries], folder)
            _mark_moved(rt, [sha for _, sha in entries])


BUSY = "busy"  # another daemon is handling this mail right now


@contextmanager
def _claim(rt: Runtime, sha: str) -> Iterator[bool]:
    """On PostgreSQL, hold a session advisory lock on the mail while handling it.

    Several daemons read the same inbox: without a claim each would parse every
    mail and race to move it (two concurrent UID MOVEs of one message both copy
    it). The lock belongs to a connection, so the server drops it if the daemon
    dies. SQLite serves one daemon; no claim is needed there.
    """
    if rt.engine.dialect.name != "postgresql":
        yield True
        return
    key = int(sha[:15], 16)
    with rt.engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


def process(rt: Runtime, fetched: Fetched, box: Mailbox | None = None, moves: Moves | None = None) -> str:
    """Handle one fetched mail of `box` (default: the first mailbox) end to end; returns its disposition.

    Never raises for a bad mail. Returns BUSY, doing nothing, when another daemon holds the mail.
    """
    box = box or rt.mailbox
    sha_of = mail_digest(fetched)
    with _claim(rt, sha_of) as mine:
        if not mine:
            return BUSY
        return _process(rt, fetched, box, moves)


def mail_digest(fetched: Fetched) -> str:
    """The mail's sha256 as the archive names it (a spooled mail is hashed from its file)."""
    if fetched.spool is None:
        return digest(fetched.raw)
    h = hashlib.sha256()
    with open(fetched.spool, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def _process(rt: Runtime, fetched: Fetched, box: Mailbox, moves: Moves | None) -> str:
    try:
        if fetched.spool is not None:
            rt.archive.root.mkdir(parents=True, exist_ok=True)
            sha, path = rt.archive.put_file(fetched.spool, move=fetched.spool_owned)
        else:
            sha, path = rt.archive.put(fetched.raw)
    except OSError as exc:
        # Nothing is processed that could not be archived first (disk full, permissions):
        # the mail stays in the inbox untouched and is tried again on the next pass.
        mid = peek_message_id(fetched)
        log.error(
            "mail %s (%s) not archived, left in the inbox: %s",
            mid,
            fetched.key,
            exc,
            extra={"message_id": mid},
        )
        return Disposition.FAILED
    with session_scope(rt.engine) as s:
        row = s.exec(select(MessageRow).where(MessageRow.sha256 == sha)).first()
        done = row is not None and row.disposition != Disposition.FAILED
        attempts = row.attempts if row is not None else 0
    if done and row is not None:
        _move(rt, box, fetched, row.disposition, sha, moves)
        return str(row.disposition)
    try:
        disposition = _file(rt, box, fetched, sha, str(path))
    except IntegrityError:
        # Another daemon filed this mail first (unique sha256 / Message-ID / item): just move it.
        with session_scope(rt.engine) as s:
            row = s.exec(select(MessageRow).where(MessageRow.sha256 == sha)).first()
        if row is None or row.disposition == Disposition.FAILED:
            return _failed(rt, box, fetched, sha, str(path), attempts, "integrity conflict")
        _move(rt, box, fetched, row.disposition, sha, moves)
        return str(row.disposition)
    except Exception as exc:  # one bad mail must never stop the pass
        # The filing transaction rolled back: no item number was kept, only the Message-ID names it.
        mid = peek_message_id(fetched)
        log.exception("mail %s (%s) failed: %s", mid, fetched.key, exc, extra={"message_id": mid})
        return _failed(rt, box, fetched, sha, str(path), attempts, f"{type(exc).__name__}: {exc}")
    _move(rt, box, fetched, disposition, sha, moves)
    return disposition


_MESSAGE_ID_HEADER = re.compile(
    rb"^message-id:[ \t]*(?:\r?\n[ \t]+)?<?([^\s<>]+)", re.IGNORECASE | re.MULTILINE
)


def peek_message_id(fetched: Fetched) -> str:
    """The mail's Message-ID read straight from its header block, for log lines (no full parse).

    Works where parsing is not possible or not done: the archive failed, the parser crashed.
    """
    head = re.split(rb"\r?\n\r?\n", bytes(fetched.raw[:65536]), maxsplit=1)[0]
    m = _MESSAGE_ID_HEADER.search(head)
    return m.group(1).decode("ascii", "replace") if m else "(no Message-ID)"


def _received_at(mail: ParsedMail, now: dt.datetime) -> dt.datetime:
    """When the mail counts as received: its Date when plausible (a backlog keeps its days), else now."""
    d = mail.date
    if d is None or d.tzinfo is None:
        return now
    if d > now or now - d > dt.timedelta(days=7):
        return now
    return d.astimezone(dt.UTC)


def _message_id(mail: ParsedMail, sha: str) -> str:
    return mail.message_id or f"{sha[:32]}@no-message-id.invalid"


def _file(rt: Runtime, box: Mailbox, fetched: Fetched, sha: str, path: str) -> str:
    now = rt.now()
    # An oversized mail is read for its headers only: it will be refused, and must not fill the memory.
    mail = parse_mail(fetched.raw, max_bytes=rt.config.limits.max_message_bytes)
    received = _received_at(mail, now)
    mid = _message_id(mail, sha)
    cfg = rt.config
    with session_scope(rt.engine) as s:
        row = s.exec(select(MessageRow).where(MessageRow.sha256 == sha)).first() or MessageRow(
            sha256=sha, mailbox=box.source_id, source_key=fetched.key, message_id=mid
        )
        row.mailbox, row.source_key = box.source_id, fetched.key
        row.uid, row.uidvalidity = fetched.uid, fetched.uidvalidity
        row.message_id, row.from_addr, row.subject = mid, mail.from_addr, mail.subject
        row.received_at, row.size, row.archive_path = received, fetched.full_size, path
        row.attempts += 1
        row.updated_at = now
        s.add(row)
        s.flush()
        twin = s.exec(
            select(MessageRow).where(
                MessageRow.message_id == mid,
                col(MessageRow.id) != row.id,
                col(MessageRow.disposition) != Disposition.FAILED,
            )
        ).first()
        if twin is not None:
            _set(
                row,
                Disposition.IGNORED,
                f"重复的 Message-ID（已于 {twin.received_at:%Y-%m-%d %H:%M} 收到）",
                rule="duplicate",
                item_id=twin.item_id,
            )
            return row.disposition
        ours = _replied_to(rt, mail)
        refers = ours.item_id if ours is not None else None
        verdict = triage(
            mail,
            size=fetched.full_size,
            directory=rt.directory(),
            reviewers=review.policy(rt).deciders,
            today=rt.local(received).date(),
            limits=Limits(cfg.limits.max_message_bytes, cfg.limits.max_extracted_bytes),
            refers_to_us=refers is not None,
            quotes_ours=ours is not None and refers is None,
        )
        if isinstance(verdict, Ignore):
            _set(row, Disposition.IGNORED, verdict.reason, rule="auto")
            notices.note_bounces(s, verdict, now)
        elif isinstance(verdict, Refuse):
            _refuse(rt, s, row, mail, verdict, received)
        elif isinstance(verdict, Reply):

            review.handle_reply(rt, s, row, mail, verdict, refers, received)
        else:
            refusal = _check_correction(s, verdict)
            if refusal is not None:
                _refuse(rt, s, row, mail, refusal, received)
            else:
                _accept(rt, s, row, mail, verdict, received, mid)
        return row.disposition


def _check_correction(s: Session, sub: Submission) -> Refuse | None:
    """【更正#N】 may only replace the sender's own unit's earlier item."""
    target = sub.info.correction_of
    old = s.get(Item, target) if target is not None else None
    return correction.refusal(sub, corrected(old) if old is not None else None)


def _replied_to(rt: Runtime, mail: ParsedMail) -> OurId | None:
    """The nearest mail of ours (signed Message-ID, sent to this sender) this mail answers, if any.

    Only the nearest counts: an officer resending by replying to a refusal answers the refusal,
    even when the refused mail was itself a reply to one of our receipts further up the thread.
    """
    for ref in [mail.in_reply_to, *reversed(mail.references)]:
        if not ref:
            continue
        ours = verify(rt.secret, ref, mail.from_addr)
        if ours is not None:
            return ours
    return None


def _set(
    row: MessageRow,
    disposition: Disposition,
    reason: str | None,
    *,
    rule: str | None = None,
    item_id: str | None = None,
) -> None:
    row.disposition, row.reason, row.rule, row.item_id = disposition, reason, rule, item_id


def _refuse(
    rt: Runtime, s: Session, row: MessageRow, mail: ParsedMail, verdict: Refuse, received: dt.datetime
) -> None:
    err = verdict.error
    rule = RULES.get(err.rule)
    disposition = Disposition.QUARANTINED if verdict.quarantine else Disposition.REFUSED
    reason = f"{rule.name if rule else err.rule}：{err.detail}"
    _set(row, disposition, reason, rule=err.rule)
    # Refused submissions are items too (status refused/quarantined), so `items list` shows them.
    year = rt.local(received).year
    # Refused mail is numbered apart (R2026-0001) so accepted items keep a gapless sequence.
    item_id = f"R{year}-{next_value(s, f'refused:{year}'):04d}"
    fields = verdict.fields
    s.add(
        Item(
            id=item_id,
            year=year,
            seq=int(item_id[6:]),
            message_row_id=row.id or 0,
            message_id=row.message_id,
            from_addr=mail.from_addr,
            unit_id=verdict.unit.id if verdict.unit else None,
            unit_name=verdict.unit.name if verdict.unit else (fields.unit or "" if fields else ""),
            title=(fields.title if fields and fields.title else mail.subject)[:500],
            status=ItemStatus.QUARANTINED if verdict.quarantine else ItemStatus.REFUSED,
            text="" if verdict.quarantine else mail.text[:200_000],
            flags=[err.rule],
            received_at=received,
        )
    )
    row.item_id = item_id
    notices.queue_refusal(rt, s, row, mail, verdict, received)


def _new_item_id(s: Session, year: int) -> str:
    return f"{year}-{next_value(s, f'item:{year}'):04d}"


def _accept(
    rt: Runtime,
    s: Session,
    row: MessageRow,
    mail: ParsedMail,
    sub: Submission,
    received: dt.datetime,
    mid: str,
) -> None:
    item_id = _new_item_id(s, rt.local(received).year)
    f = sub.fields
    flags: list[str] = []
    if sub.info.urgent:
        flags.append("紧急")
    if sub.info.correction_of:
        flags.append("更正")
        old = s.get(Item, sub.info.correction_of)
        if old is not None:
            # The old item stays for the record but is no longer scored; reviewers see its decisions.
            old.status = ItemStatus.SUPERSEDED
            old.flags = [*old.flags, "已被更正"]
            s.add(old)
    yuegao_no, yuegao_flags = _yuegao_link(rt, s, sub, received) if sub.info.yuegao_tagged else (None, [])
    flags += yuegao_flags
    item = Item(
        id=item_id,
        year=int(item_id[:4]),
        seq=int(item_id[5:]),
        message_row_id=row.id or 0,
        message_id=mid,
        from_addr=mail.from_addr,
        unit_id=sub.unit.id,
        unit_name=sub.unit.name,
        title=(f.title or "")[:500],
        signer=f.signer,
        reporter=f.reporter,
        phone=f.phone,
        written_date=f.date,
        category=sub.info.category,
        urgent=sub.info.urgent,
        yuegao_no=yuegao_no,
        correction_of=sub.info.correction_of,
        status=ItemStatus.PENDING,
        text=sub.text,
        cover_note=sub.cover_note,
        text_note=sub.text_note,
        flags=flags,
        received_at=received,
    )
    s.add(item)
    s.flush()
    for att in sub.attachments:
        ext = "." + att.safe_name.rsplit(".", 1)[-1][:10] if "." in att.safe_name else ".bin"
        sha, path = rt.archive.put(att.data, suffix=ext)
        s.add(
            AttachmentRow(
                item_id=item_id,
                filename=att.filename or att.safe_name,
                safe_name=att.safe_name,
                content_type=att.content_type,
                size=len(att.data),
                sha256=sha,
                path=str(path),
                is_document=att is sub.document,
            )
        )
    _flag_similar(rt, s, item)
    _set(row, Disposition.ITEM, None, item_id=item_id)
    notices.queue_accepted(rt, s, item, sub, received)
    log.info(
        "mail %s filed as %s (%s)", mid, item_id, sub.unit.name, extra={"message_id": mid, "item": item_id}
    )


def _yuegao_link(
    rt: Runtime, s: Session, sub: Submission, received: dt.datetime
) -> tuple[int | None, list[str]]:
    """The 约稿 a tagged item answers and its flags (core/scoring/commission.link decides)."""
    unit = sub.unit
    answered = s.exec(
        select(Item.yuegao_no).where(
            Item.unit_id == unit.id, col(Item.yuegao_no).is_not(None), col(Item.status).not_in(list(UNSCORED))
        )
    ).all()
    old = s.get(Item, sub.info.correction_of) if sub.info.correction_of is not None else None
    linked = commission.link(
        unit,
        sub.info.yuegao,
        received,
        requests=requests(s),
        answered={n for n in answered if n is not None},
        corrects=commission_response(old) if old is not None else None,
        tz=rt.config.tz,
    )
    return linked.number, list(linked.flags)


def _flag_similar(rt: Runtime, s: Session, item: Item) -> None:
    """Flag 雷同 against recent items (same unit 30 days, others 7 days) and keep the fingerprint."""
    lim = rt.config.limits
    feed = rt.similarity
    keep = max(lim.similar_days, lim.similar_other_days)
    since = item.received_at - dt.timedelta(days=keep + 1)
    rows = s.execute(
        sa_select(  # type: ignore[call-overload]
            Item.message_row_id, Item.id, Item.unit_id, Item.received_at, Item.fingerprint
        ).where(
            col(Item.message_row_id) > feed.seen_row,
            col(Item.received_at) >= since,
            col(Item.id) != item.id,
            col(Item.fingerprint).is_not(None),
        )
    ).all()
    feed.catch_up(((r[0], r[1], r[2], as_utc(r[3]), r[4]) for r in rows), as_utc(item.received_at), keep)
    doc = similarity.Doc(item.id, item.unit_id, as_utc(item.received_at), item.title, item.text)
    match = feed.index.best_match(
        doc,
        same_unit_days=lim.similar_days,
        other_unit_days=lim.similar_other_days,
        threshold=lim.similar_threshold,
    )
    item.fingerprint = similarity.fingerprint(item.title, item.text)
    if match is not None:
        item.flags = [*item.flags, "雷同"]
        item.similar_to, item.similarity = match.other_id, round(match.similarity, 3)
    s.add(item)
    feed.index.add(doc)


def _failed(
    rt: Runtime, box: Mailbox, fetched: Fetched, sha: str, path: str, attempts: int, error: str
) -> str:
    """Record a failed attempt; after max_attempts move the mail to the failed folder."""
    with session_scope(rt.engine) as s:
        row = s.exec(select(MessageRow).where(MessageRow.sha256 == sha)).first()
        if row is None:
            row = MessageRow(
                sha256=sha,
                mailbox=box.source_id,
                source_key=fetched.key,
                message_id=f"{sha[:32]}@unparsed.invalid",
                archive_path=path,
                size=fetched.full_size,
            )
        row.attempts = attempts + 1
        row.disposition, row.reason, row.rule = Disposition.FAILED, error[:2000], "failed"
        row.updated_at = utcnow()
        s.add(row)
        give_up = row.attempts >= rt.box_config(box).max_attempts
        item_id = row.item_id
    if give_up:
        mid = peek_message_id(fetched)
        log.error(
            "mail %s (%s%s) failed %d times, moved to %s: %s",
            mid,
            fetched.key,
            f", item {item_id}" if item_id else "",
            attempts + 1,
            rt.box_config(box).failed_folder,
            error,
            extra={"message_id": mid, "item": item_id},
        )
        _move(rt, box, fetched, Disposition.FAILED, sha)
    return Disposition.FAILED


def _move(
    rt: Runtime, box: Mailbox, fetched: Fetched, disposition: str, sha: str, moves: Moves | None = None
) -> None:
    folder = getattr(rt.box_config(box), _FOLDER_OF[Disposition(disposition)])
    if moves is not None:
        moves.add(box, folder, fetched.key, sha)
        return
    box.move(fetched.key, folder)
    _mark_moved(rt, [sha])


def _mark_moved(rt: Runtime, shas: list[str]) -> None:
    with session_scope(rt.engine) as s:
        s.execute(update(MessageRow).where(col(MessageRow.sha256).in_(shas)).values(moved=True))
