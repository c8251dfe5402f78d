"""Who may decide on an item by reply (SPEC §3): the policy, as a verdict naming the rule it applied.

The reviewers decide, and so do the duty editors: they get the 【紧急】 alert, a review
request inviting a reply. When the office asks for it, the reply must also carry an
aligned dkim=pass or spf=pass from the office's own mail server. And there must be an
item to decide on. A reply that fails any of these is recorded and answered, never applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from mailbot.core.mail.authresults import sender_authenticated


class Refusal(StrEnum):
    """Why a reply decides nothing; the value is the rule recorded on the message."""

    NOT_REVIEWER = "not_reviewer"
    UNAUTHENTICATED = "unauthenticated"
    NO_ITEM = "no_item"


@dataclass(frozen=True, slots=True)
class Policy:
    """The [review] settings that say who may decide."""

    reviewers: tuple[str, ...] = ()
    urgent: tuple[str, ...] = ()
    require_authenticated_sender: bool = False
    authserv_id: str = ""

    @property
    def deciders(self) -> tuple[str, ...]:
        """Every address whose reply about an item is a decision: the reviewers, then the duty editors."""
        return (*self.reviewers, *self.urgent)


@dataclass(frozen=True, slots=True)
class Allowed:
    """The reply may decide on item `item_id`."""

    item_id: str


@dataclass(frozen=True, slots=True)
class Refused:
    """The reply decides nothing, by `rule`; `item_ref` is the item it named, if any."""

    rule: Refusal
    item_ref: str | None = None


def may_decide(
    policy: Policy,
    *,
    sender: str,
    from_reviewer: bool,
    auth_results: Sequence[str],
    item_ref: str | None,
    item_found: bool,
) -> Allowed | Refused:
    """Whether a reply from `sender` about item `item_ref` may decide on it, checked in this order.

    `from_reviewer`: triage found the sender among `policy.deciders`. `auth_results`: the mail's
    Authentication-Results headers, topmost first. `item_found`: `item_ref` names an item on file.
    """
    if not from_reviewer:
        return Refused(Refusal.NOT_REVIEWER, item_ref)
    if policy.require_authenticated_sender and not sender_authenticated(
        auth_results, policy.authserv_id, sender
    ):
        return Refused(Refusal.UNAUTHENTICATED, item_ref)
    if item_ref is None or not item_found:
        return Refused(Refusal.NO_ITEM, item_ref)
    return Allowed(item_ref)
