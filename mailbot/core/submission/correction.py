"""【更正#N】: which earlier item a submission may replace.

A correction replaces an item of the sender's own unit that was registered (not refused or
quarantined). Anything else is refused with the rule bad_correction, before the submission
is filed, so that no unit can supersede another unit's item.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.core.errors import RefusedMail
from mailbot.core.review.status import UNREGISTERED
from mailbot.core.submission.triage import Refuse, Submission


@dataclass(frozen=True, slots=True)
class Corrected:
    """The item a 【更正#N】 names, as the correction rule sees it."""

    item_id: str
    unit_id: str | None
    unit_name: str
    status: str


def refusal(sub: Submission, old: Corrected | None) -> Refuse | None:
    """Why `sub` may not correct `old` (None when it may, or when it corrects nothing).

    `old` is the item `sub.info.correction_of` names, None when there is no such item.
    """
    target = sub.info.correction_of
    if target is None:
        return None
    if old is None or old.status in UNREGISTERED:
        detail = f"要更正的信息 {target} 不存在。"
    elif old.unit_id != sub.unit.id:
        detail = f"信息 {target} 由 {old.unit_name} 报送，不能由 {sub.unit.name} 更正。"
    else:
        return None
    return Refuse(
        RefusedMail("bad_correction", detail, seen=f"【更正#{target}】"), unit=sub.unit, fields=sub.fields
    )
