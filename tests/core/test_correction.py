"""【更正#N】 on plain values: a unit corrects only its own registered items."""

from __future__ import annotations

import pytest

from mailbot.core.review.status import ItemStatus
from mailbot.core.submission.correction import Corrected, refusal
from mailbot.core.submission.subject import Fields, SubjectInfo
from mailbot.core.submission.triage import Submission
from mailbot.core.submission.units import Unit

YUEXIU = Unit("QX01", "越秀区政府", "区县")
FIELDS = Fields(title="防汛工作情况（更正）", unit="越秀区", signer="张三", reporter="李四", phone="12345678")


def correcting(target: str | None, unit: Unit = YUEXIU) -> Submission:
    info = SubjectInfo(FIELDS, correction_of=target)
    return Submission(info, FIELDS, unit, text="正文", cover_note="", document=None, text_note="")


def test_a_correction_of_the_units_own_item_is_accepted() -> None:
    assert refusal(correcting("2026-0001"), Corrected("2026-0001", "QX01", "越秀区政府", "pending")) is None
    # Whatever was decided on it: an adopted item may be corrected too (its decisions stay on record).
    assert refusal(correcting("2026-0001"), Corrected("2026-0001", "QX01", "越秀区政府", "adopted")) is None


def test_a_submission_that_corrects_nothing_is_never_refused_for_it() -> None:
    assert refusal(correcting(None), None) is None


def test_a_correction_of_another_units_item_is_refused() -> None:
    refused = refusal(correcting("2026-0001"), Corrected("2026-0001", "QX02", "荔湾区政府", "pending"))
    assert refused is not None
    assert refused.error.rule == "bad_correction"
    assert refused.error.detail == "信息 2026-0001 由 荔湾区政府 报送，不能由 越秀区政府 更正。"
    assert refused.error.seen == "【更正#2026-0001】"
    # The refusal is answered, to the sender's unit, with what they wrote.
    assert (refused.unit, refused.fields, refused.answer) == (YUEXIU, FIELDS, True)


@pytest.mark.parametrize("status", [ItemStatus.REFUSED, ItemStatus.QUARANTINED])
def test_a_refused_or_quarantined_mail_cannot_be_corrected_it_was_never_registered(status: str) -> None:
    refused = refusal(correcting("R2026-0001"), Corrected("R2026-0001", "QX01", "越秀区政府", status))
    assert refused is not None and refused.error.detail == "要更正的信息 R2026-0001 不存在。"


def test_a_correction_of_an_unknown_item_is_refused() -> None:
    refused = refusal(correcting("2026-0404"), None)
    assert refused is not None
    assert (refused.error.rule, refused.error.detail) == ("bad_correction", "要更正的信息 2026-0404 不存在。")
