"""The mails to units that no mail of theirs caused: 约稿 requests and reminders, the bulletin's copies."""

from __future__ import annotations

import datetime as dt

from mailbot.core.bulletin.content import BulletinData, bulletin_title
from mailbot.core.bulletin.workbook import workbook_filename
from mailbot.core.letters.letter import Letter, Priority
from mailbot.core.submission.subject import yuegao_reminder_subject, yuegao_subject
from mailbot.core.submission.units import Unit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _yuegao(
    *, reminder: bool, number: int, title: str, text: str, due: dt.date, unit: Unit, to: str
) -> Letter:
    return Letter(
        kind="yuegao",
        dedupe_key=f"{'yuegao-reminder' if reminder else 'yuegao'}:{number}:{unit.id}:{to}",
        to=to,
        subject=yuegao_reminder_subject(number, title) if reminder else yuegao_subject(number, title, due),
        template="yuegao",
        context={
            "number": number,
            "title": title,
            "text": text,
            "due": due,
            "unit": unit,
            "reminder": reminder,
        },
        auto="auto-generated",
    )


def yuegao_request(*, number: int, title: str, text: str, due: dt.date, unit: Unit, to: str) -> Letter:
    """约稿#number to one officer of `unit`."""
    return _yuegao(reminder=False, number=number, title=title, text=text, due=due, unit=unit, to=to)


def yuegao_reminder(*, number: int, title: str, text: str, due: dt.date, unit: Unit, to: str) -> Letter:
    """The reminder, the day before it is due, of a 约稿 `unit` has not answered yet."""
    return _yuegao(reminder=True, number=number, title=title, text=text, due=due, unit=unit, to=to)


def bulletin_prefix(period_label: str) -> str:
    """What the dedupe keys of every copy of one period's bulletin start with."""
    return f"bulletin:{period_label}:"


def bulletin_key(period_label: str, unit_id: str, address: str) -> str:
    """The dedupe key of one copy: each (bulletin, unit, address) is sent exactly once."""
    return f"{bulletin_prefix(period_label)}{unit_id}:{address}"


def bulletin_copy(data: BulletinData, *, unit_id: str, to: str, xlsx: bytes) -> Letter:
    """One unit's copy of the bulletin, with the workbook; its body is rendered by compose.Copies."""
    return Letter(
        kind="bulletin",
        dedupe_key=bulletin_key(data.period.label, unit_id, to),
        to=to,
        subject=bulletin_title(data),
        template=None,
        context={"data": data, "unit_id": unit_id},
        auto="auto-generated",
        attachments=((workbook_filename(data), XLSX, xlsx),),
        priority=Priority.BULLETIN,
    )
