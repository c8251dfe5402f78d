"""The shape of a mail before it is rendered (`Letter`) and the plain values the builders read.

The builders of every mail live beside this module (to_officers, to_reviewers, to_units) and are
registered in mailbot/core/letters/__init__.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

File = tuple[str, str, bytes]  # an attachment: (file name, content type, bytes)


class Priority(IntEnum):
    """The outbox's order: lower goes first."""

    ALERT = 0
    RECEIPT_URGENT = 1
    NORMAL = 5
    BULLETIN = 9


@dataclass(frozen=True, slots=True)
class Letter:
    """One mail to one recipient before it is rendered: everything the mailer needs to queue it once."""

    kind: str  # the outbox kind, also signed into the Message-ID
    dedupe_key: str  # queued at most once per key; the Message-ID is derived from it
    to: str
    subject: str
    template: str | None  # templates/mail/NAME.{txt,html}.j2; None: rendered elsewhere (the bulletin)
    context: Mapping[str, Any] = field(default_factory=dict)
    item_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    priority: Priority = Priority.NORMAL
    auto: str = "auto-replied"  # Auto-Submitted: auto-replied answers a mail, auto-generated starts one
    attachments: tuple[File, ...] = ()

    def template_context(self, office: str) -> dict[str, Any]:
        """What the template sees: the signing office, the item number, the subject as heading, the context."""
        return {"office": office, "item_id": self.item_id, "heading": self.subject, **self.context}


@dataclass(frozen=True, slots=True)
class ItemFacts:
    """What mails say of an item (the templates read these attributes as `item.…`)."""

    id: str
    title: str
    unit_name: str
    from_addr: str  # the officer who sent it
    message_id: str  # of the submission, without <>; '' when it had none
    reporter: str | None = None
    signer: str | None = None
    phone: str | None = None
    written_date: dt.date | None = None
    urgent: bool = False
    correction_of: str | None = None
    text: str = ""
    cover_note: str = ""
    text_note: str = ""
    flags: tuple[str, ...] = ()
    similar_to: str | None = None
    similarity: float | None = None


@dataclass(frozen=True, slots=True)
class YuegaoRef:
    """The 约稿 an item answers, as its review request names it."""

    number: int
    title: str
    due: dt.date
