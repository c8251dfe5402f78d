"""Who may decide on an item by reply, on plain values: a verdict naming the rule that refused."""

from __future__ import annotations

from collections.abc import Sequence

from mailbot.core.review.authority import Allowed, Policy, Refusal, Refused, may_decide

EDITOR = "editor@example.org"
DUTY = "duty@example.org"
OPEN = Policy(reviewers=(EDITOR,), urgent=(DUTY,))
STRICT = Policy(
    reviewers=(EDITOR,), urgent=(DUTY,), require_authenticated_sender=True, authserv_id="mx.example.org"
)
SIGNED = ("mx.example.org; dkim=pass header.d=example.org header.s=sel",)


def decide(
    policy: Policy,
    *,
    sender: str = EDITOR,
    from_reviewer: bool = True,
    auth_results: Sequence[str] = (),
    item_ref: str | None = "2026-0001",
    item_found: bool = True,
) -> Allowed | Refused:
    return may_decide(
        policy,
        sender=sender,
        from_reviewer=from_reviewer,
        auth_results=auth_results,
        item_ref=item_ref,
        item_found=item_found,
    )


def test_a_reviewers_reply_about_an_item_on_file_decides() -> None:
    assert decide(OPEN) == Allowed("2026-0001")


def test_the_duty_editors_decide_too_after_the_reviewers() -> None:
    # They get the 【紧急】 alert, which invites a reply like a review request.
    assert OPEN.deciders == (EDITOR, DUTY)
    assert Policy(reviewers=(EDITOR,)).deciders == (EDITOR,)


def test_a_non_reviewers_reply_decides_nothing_whatever_else_holds() -> None:
    verdict = decide(STRICT, sender="officer@gz.example.org", from_reviewer=False, auth_results=SIGNED)
    assert verdict == Refused(Refusal.NOT_REVIEWER, "2026-0001")
    # Said before anything else: not even whether the item exists is told to a stranger.
    assert decide(OPEN, from_reviewer=False, item_found=False) == Refused(Refusal.NOT_REVIEWER, "2026-0001")


def test_when_the_office_asks_for_it_an_unauthenticated_reply_decides_nothing() -> None:
    assert decide(STRICT) == Refused(Refusal.UNAUTHENTICATED, "2026-0001")
    assert decide(STRICT, auth_results=("evil.example.net; dkim=pass header.d=example.org",)) == Refused(
        Refusal.UNAUTHENTICATED, "2026-0001"
    )  # a pass reported by another server than the office's counts for nothing
    assert decide(STRICT, auth_results=SIGNED) == Allowed("2026-0001")
    assert decide(OPEN) == Allowed("2026-0001")  # not asked: not checked


def test_a_reply_about_no_item_on_file_decides_nothing() -> None:
    assert decide(OPEN, item_found=False) == Refused(Refusal.NO_ITEM, "2026-0001")
    assert decide(OPEN, item_ref=None, item_found=False) == Refused(Refusal.NO_ITEM, None)


def test_the_refusal_names_the_rule_recorded_on_the_message() -> None:
    assert [str(r) for r in Refusal] == ["not_reviewer", "unauthenticated", "no_item"]
