"""The 落款 of a submission body: signature lines that supply fields the subject lacks.

The Guangzhou rules ask for 单位、签发人、报送人、联系电话、日期 both in the
subject and at the foot of the body (seed 003), and officers often fill in only
the latter. The 落款 is at the end, so a later line wins over an earlier one;
quoted reply text is never read.
"""

from __future__ import annotations

import datetime as dt
import re

from mailbot.core.submission.cndate import fold_aligned, parse_date
from mailbot.core.submission.subject import Fields, labelled_values, split_trailing_phone

# A bare 时间： in a body is usually the time of the event reported, not of the report.
_BODY_DATE_LABELS = ("日期", "报送日期", "报送时间")
# Where quoted mail begins (SPEC §3 lists the same separators for replies), matched on folded text.
_QUOTE_SEPARATOR = re.compile(
    r"^\s*(?:-{3,}\s*(?:原始邮件|original message|forwarded message|转发邮件)\s*-{3,}"
    r"|_{10,}"
    r"|(?:发件人|from)\s*:"
    r"|在.{0,80}写道\s*:"
    r"|on .{0,120}wrote\s*:)",
    re.IGNORECASE,
)
# （越秀区政府办公室 供稿） or (市公安局报送)
_SUPPLIED_BY = re.compile(r"^\((?P<unit>[^()]{2,40}?) *(?:供稿|报送|供)\)$")
# The last lines of an official closing: the unit alone on a line, then the date.
_UNIT_SUFFIX = re.compile(
    r"(?:政府|办公室|办公厅|办|局|委|委员会|院|中心|社|公司|集团|海关|大学|学院|所|部|处|科|厅|会|队|站|台|署|馆|园)$"
)
_SENTENCE_PUNCT = re.compile(r"[,，。:：;；!！?？、\"“”]")
_CLOSING_LINES = 6


def _body_lines(text: str, *, own_only: bool) -> list[str]:
    """Lines of `text` without ``>`` quotes; with `own_only`, also nothing after a reply separator."""
    kept: list[str] = []
    for line in text.splitlines():
        if own_only and _QUOTE_SEPARATOR.match(fold_aligned(line)[0]):
            break
        if line.lstrip().startswith((">", "＞")):
            continue
        kept.append(line)
    return kept


def _closing(lines: list[str], today: dt.date) -> tuple[str | None, dt.date | None]:
    """Unit and date from a closing written as two bare lines (单位 above 日期) at the end."""
    tail = [line.strip() for line in lines if line.strip()][-_CLOSING_LINES:]
    for i in range(len(tail) - 1, -1, -1):
        when = parse_date(tail[i], today)
        if when is None:
            continue
        unit = None
        if i > 0:
            above = tail[i - 1]
            folded, _ = fold_aligned(above)
            if len(folded) <= 30 and not _SENTENCE_PUNCT.search(folded) and _UNIT_SUFFIX.search(folded):
                unit = above
        return unit, when
    return None, None


def fields_from_body(text: str, today: dt.date) -> Fields:
    """The fields written as labelled signature lines (and a bare closing) in a body.

    Only the officer's own text is read, unless it has no fields at all: then the
    mail is a forward and the 落款 is in the forwarded part.
    """
    own = _fields_from_lines(_body_lines(text, own_only=True), today)
    if own != Fields():
        return own
    return _fields_from_lines(_body_lines(text, own_only=False), today)


def _fields_from_lines(lines: list[str], today: dt.date) -> Fields:
    values: dict[str, str] = {}
    supplied_by: str | None = None
    for line in lines:
        folded, origin = fold_aligned(line.strip())
        if (m := _SUPPLIED_BY.match(folded)) is not None:
            supplied_by = line.strip()[origin[m.start("unit")] : origin[m.end("unit")]].strip()
            continue
        _, pairs = labelled_values(line)
        for pair in pairs:
            field, value = pair.field, pair.value
            if field == "date" and pair.label not in _BODY_DATE_LABELS:
                continue
            if field == "reporter":
                # 联系人：李四 13800138000 carries the phone too.
                value, phone = split_trailing_phone(value)
                if phone is not None:
                    values["phone"] = phone
            values[field] = value

    closing_unit, closing_date = _closing(lines, today)
    labelled_date = parse_date(values["date"], today) if "date" in values else None
    return Fields(
        title=values.get("title"),
        unit=values.get("unit") or supplied_by or closing_unit,
        signer=values.get("signer"),
        reporter=values.get("reporter"),
        phone=values.get("phone"),
        date=labelled_date or closing_date,
    )
