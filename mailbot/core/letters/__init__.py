"""Every mail mailbot sends, in one place: its kind, dedupe key, subject, template and context.

One builder per kind turns plain values (an item's facts, decisions, a 约稿, a bulletin) into a
`Letter`; the app layer fills them in from its rows and hands the letter to app/mailer.py, which
renders, signs and queues it. The subjects are written with the functions that read them back
(core/submission/subject.py, refusals.py), so a reply to a mail of ours is recognised. Adding a
mail is one builder (to_officers, to_reviewers or to_units), one entry in REGISTRY below, and its
two templates in mailbot/templates/mail/.
"""

from __future__ import annotations

from collections.abc import Callable

from mailbot.core.letters.letter import File, ItemFacts, Letter, Priority, YuegaoRef
from mailbot.core.letters.to_officers import officer_notice, receipt, refusal
from mailbot.core.letters.to_reviewers import (
    confirmation,
    reply_error,
    reply_help,
    review_request,
    urgent_alert,
    yuegao_line,
)
from mailbot.core.letters.to_units import (
    XLSX,
    bulletin_copy,
    bulletin_key,
    bulletin_prefix,
    yuegao_reminder,
    yuegao_request,
)

# The one registry of the mails mailbot sends: a name to the builder that writes it.
REGISTRY: dict[str, Callable[..., Letter]] = {
    "receipt": receipt,
    "refusal": refusal,
    "notice": officer_notice,
    "review": review_request,
    "alert": urgent_alert,
    "confirm": confirmation,
    "reply-error": reply_error,
    "help": reply_help,
    "yuegao": yuegao_request,
    "yuegao-reminder": yuegao_reminder,
    "bulletin": bulletin_copy,
}

__all__ = [
    "REGISTRY",
    "XLSX",
    "File",
    "ItemFacts",
    "Letter",
    "Priority",
    "YuegaoRef",
    "bulletin_copy",
    "bulletin_key",
    "bulletin_prefix",
    "confirmation",
    "officer_notice",
    "receipt",
    "refusal",
    "reply_error",
    "reply_help",
    "review_request",
    "urgent_alert",
    "yuegao_line",
    "yuegao_reminder",
    "yuegao_request",
]
