"""Deciding what a received mail is: a submission, a reviewer's reply, or mail to ignore.

Pure apart from reading an attached document's text (documents.py): no
database, no network. The intake shell feeds it a parsed mail plus what it
needs to know, and applies the verdict.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

import mailbot.core.submission.classify as classify
import mailbot.core.submission.documents as documents
from mailbot.core.errors import QuarantinedMail, RefusedMail
from mailbot.core.mail.mime import Attachment, ParsedMail
from mailbot.core.mail.quotes import strip_quotes
from mailbot.core.submission.classified import find_classified_marks
from mailbot.core.submission.refusals import strip_refusal_prefix
from mailbot.core.submission.signature import fields_from_body
from mailbot.core.submission.subject import (
    Fields,
    SubjectInfo,
    find_item_ref,
    parse_subject,
    strip_yuegao_wording,
    with_fields,
)
from mailbot.core.submission.units import Unit, UnitDirectory


@dataclass(frozen=True, slots=True)
class Limits:
    """Size limits of SPEC §2.2."""

    max_message_bytes: int = 20_000_000
    max_extracted_bytes: int = 50_000_000


@dataclass(frozen=True, slots=True)
class Ignore:
    """Never answered: auto-replies, bounces, list mail, spam."""

    reason: str
    bounced_recipients: tuple[str, ...] = ()
    bounced_message_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Refuse:
    """Not accepted; answered (unless `answer` is False) with the rule, what was seen and an example."""

    error: RefusedMail
    unit: Unit | None = None
    fields: Fields | None = None
    answer: bool = True
    stranger: bool = False  # the sender is no registered officer: answered at most once a day

    @property
    def quarantine(self) -> bool:
        """True for classified mail, whose content goes nowhere."""
        return isinstance(self.error, QuarantinedMail)


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply about an item (from a reviewer, or anyone answering a mail mailbot sent)."""

    item_ref: str | None  # from the subject; the shell also tries In-Reply-To/References
    from_reviewer: bool


@dataclass(frozen=True, slots=True)
class Submission:
    """An accepted item, ready to be filed."""

    info: SubjectInfo
    fields: Fields
    unit: Unit
    text: str
    cover_note: str
    document: Attachment | None
    text_note: str
    attachments: tuple[Attachment, ...] = field(default=())


Verdict = Ignore | Refuse | Reply | Submission


def triage(
    mail: ParsedMail,
    *,
    size: int,
    directory: UnitDirectory,
    reviewers: Collection[str],
    today: dt.date,
    limits: Limits,
    refers_to_us: bool = False,
    quotes_ours: bool = False,
) -> Verdict:
    """Classify one mail.

    `refers_to_us`: its In-Reply-To/References name a mail mailbot sent about an item.
    `quotes_ours`: it answers a mail of ours about no item (a refusal, a 约稿): the quote is ours.
    """
    auto = classify.auto_reason(mail)
    if auto is not None:
        return Ignore(
            auto,
            tuple(classify.bounced_recipients(mail)) if classify.is_bounce(mail) else (),
            tuple(classify.bounced_message_ids(mail)) if classify.is_bounce(mail) else (),
        )
    if classify.is_spam(mail):
        return Ignore("spam (X-Spam-Flag)")
    sender = mail.from_addr
    is_reviewer = sender in {r.lower() for r in reviewers}
    item_ref = find_item_ref(mail.subject)
    info = _submission_subject(mail.subject, today)
    if is_reviewer and (refers_to_us or item_ref):
        return Reply(item_ref, True)
    if info.correction_of is None and (refers_to_us or item_ref is not None):
        # Anyone else answering a mail about an item (an officer's "收到，谢谢" to a receipt,
        # a forwarded review request): recorded and answered, never filed as a new item.
        return Reply(item_ref, False)
    if quotes_ours:
        # A corrected submission sent as a reply to its refusal, an answer to a 约稿 request:
        # the quoted mail is ours (with its example subject), never the officer's 落款.
        mail = dataclasses.replace(mail, text=strip_quotes(mail.text))
    known = bool(directory.units_of_officer(sender))
    try:
        return _submission(mail, info, size=size, directory=directory, today=today, limits=limits)
    except QuarantinedMail as exc:
        return Refuse(exc, answer=True, stranger=not known)
    except RefusedMail as exc:
        units = directory.units_of_officer(sender)
        return Refuse(exc, unit=units[0] if len(units) == 1 else None, fields=info.fields, stranger=not known)


def _submission_subject(subject: str, today: dt.date) -> SubjectInfo:
    """The subject read as a submission's, without what our own refusal and 约稿 subjects put in it."""
    info = parse_subject(strip_refusal_prefix(subject), today)
    title = info.fields.title
    if info.yuegao_tagged and title:
        title = strip_yuegao_wording(title)
        if title != info.fields.title:
            info = with_fields(info, dataclasses.replace(info.fields, title=title))
    return info


def _submission(
    mail: ParsedMail,
    info: SubjectInfo,
    *,
    size: int,
    directory: UnitDirectory,
    today: dt.date,
    limits: Limits,
) -> Submission:
    body = mail.text.strip()
    oversized = size > limits.max_message_bytes
    docs = [a for a in mail.attachments if documents.is_document(a) and not a.inline]
    # Classified marks come before every other rule: a classified mail from a stranger or with
    # two documents must be quarantined, never refused (a refused mail's text is kept and shown).
    marks = find_classified_marks(mail.subject, subject=True) + find_classified_marks(body)
    doc_texts: list[documents.DocumentText] = []
    doc_refusal: RefusedMail | None = None
    if not oversized:
        extracted = len(body.encode())
        for doc in docs:
            try:
                got = documents.extract_text(doc, max_bytes=limits.max_extracted_bytes)
            except RefusedMail as exc:  # inflates beyond the limit: not read, refused below
                doc_refusal = exc
                break
            doc_texts.append(got)
            marks += find_classified_marks(got.text)
            extracted += len(got.text.encode())
            if extracted > limits.max_extracted_bytes:
                doc_refusal = RefusedMail(
                    "too_large",
                    f"正文及文档提取后共 {extracted / 1e6:.1f} MB，"
                    f"超过上限 {limits.max_extracted_bytes / 1e6:.3g} MB。",
                    seen=f"{extracted} bytes",
                )
                break
    if marks:
        seen = "、".join(dict.fromkeys(marks))
        raise QuarantinedMail("classified", f"邮件中发现涉密标识“{seen}”。", seen=seen)
    if oversized:
        raise RefusedMail(
            "too_large",
            f"邮件大小 {size / 1e6:.1f} MB，超过上限 {limits.max_message_bytes / 1e6:.3g} MB。",
            seen=f"{size} bytes",
        )
    sender_units = directory.units_of_officer(mail.from_addr)
    if not sender_units:
        raise RefusedMail(
            "unknown_sender",
            f"发件地址 {mail.from_addr or '（无法识别）'} 未登记为任何单位的信息员。",
            seen=mail.from_addr,
        )
    broken = next((d for d in mail.defects if d.startswith("parser failed")), None)
    if broken is not None:
        # parse_mail fell back to a line scan: the "text" is raw MIME (boundaries, base64), and
        # attachments are lost. Filing it would show the reviewers garbage under a number.
        raise RefusedMail(
            "unparseable",
            "邮件的格式结构已损坏，系统无法从中读出正文和附件。",
            seen=f"邮件结构无法解析（{broken.removeprefix('parser failed: ')}）",
        )
    if len(docs) > 1:
        names = "、".join(a.filename or a.safe_name for a in docs)
        raise RefusedMail("too_many_documents", f"本邮件附有 {len(docs)} 个文档：{names}。", seen=names)
    if doc_refusal is not None:
        raise doc_refusal
    doc_text = doc_texts[0] if doc_texts else None
    fields = info.fields.merged_with(fields_from_body(body, today))
    if doc_text is not None and doc_text.text:
        fields = fields.merged_with(fields_from_body(doc_text.text, today))
    unit = _unit_for(fields, sender_units, directory, mail.from_addr)
    missing = fields.missing()
    if missing:
        raise RefusedMail(
            "missing_fields",
            f"未能从主题或正文落款中读到：{'、'.join(missing)}。",
            seen=mail.subject,
        )
    if doc_text is not None:
        text, cover, note = doc_text.text, body, doc_text.note
    else:
        text, cover, note = body, "", ""
    if not text.strip() and not (doc_text is not None and not doc_text.extracted):
        raise RefusedMail("empty", "邮件正文为空，也没有附带文档。", seen=mail.subject)
    if fields.date is None:
        fields = Fields(fields.title, fields.unit, fields.signer, fields.reporter, fields.phone, today)
    return Submission(
        info=info,
        fields=fields,
        unit=unit,
        text=text,
        cover_note=cover,
        document=docs[0] if docs else None,
        text_note=note,
        attachments=tuple(mail.attachments),
    )


def _unit_for(fields: Fields, sender_units: list[Unit], directory: UnitDirectory, sender: str) -> Unit:
    """The unit the item is filed for; the sender must be its officer."""
    if not fields.unit:
        if len(sender_units) == 1:
            return sender_units[0]
        names = "、".join(u.name for u in sender_units)
        raise RefusedMail("missing_fields", f"该邮箱登记了多个单位（{names}），请在主题中注明单位。", seen="")
    named = directory.match(fields.unit)
    if named is None:
        # A variant of the sender's own unit name (越秀区人民政府 for 越秀区政府) is still that unit.
        for u in sender_units:
            if any(n and (n in fields.unit or fields.unit in n) for n in u.names() if len(n) >= 2):
                return u
        raise RefusedMail(
            "unknown_unit", f"主题中的单位“{fields.unit}”不在报送单位名单中。", seen=fields.unit
        )
    if named not in sender_units:
        raise RefusedMail(
            "wrong_unit",
            f"发件地址 {sender} 登记为 {'、'.join(u.name for u in sender_units)} 的信息员，不能以“{named.name}”名义报送。",
            seen=fields.unit,
        )
    return named
