"""Reading a submission subject: tags, then 标题/单位/签发人/报送人/电话/日期 (SPEC §2.1).

Officers type subjects by hand in every width, script and order, so the parser
is lenient: labels and tags are matched after folding, values are kept as
written. Nothing here raises on odd text; a subject that is not in either form
is simply a title.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from mailbot.core.submission.cndate import find_phone, fold_aligned, is_phone, parse_date

# Field name -> label aliases, in folded (Simplified, half-width) form.
FIELD_LABELS: Mapping[str, tuple[str, ...]] = {
    "title": ("标题", "题目", "信息标题", "稿件标题", "主题"),
    "unit": ("单位", "报送单位", "单位名称", "供稿单位", "来稿单位"),
    "signer": ("签发人", "签发", "签发领导", "审签人", "审签"),
    "reporter": ("报送人", "信息员", "资讯员", "撰稿人", "撰稿", "联系人", "拟稿人", "拟稿", "供稿人"),
    "phone": ("电话", "联系电话", "手机", "手机号", "手机号码", "电话号码", "联系方式", "办公电话"),
    "date": ("日期", "报送日期", "时间", "报送时间"),
}
_LABEL_FIELD = {label: name for name, labels in FIELD_LABELS.items() for label in labels}
# Longest first so 报送单位 is not read as 报送 + 单位.
_LABEL_ALT = "|".join(sorted((re.escape(x) for x in _LABEL_FIELD), key=len, reverse=True))
# A label counts only at the start of a part or after a separator, so 各单位：
# inside a title is not a label.
_LABEL_RE = re.compile(rf"(?:^|(?<=[\s;|,、(\[【]))(?P<label>{_LABEL_ALT}) *:")

_REQUIRED = (
    ("title", "标题"),
    ("unit", "单位"),
    ("signer", "签发人"),
    ("reporter", "报送人"),
    ("phone", "电话"),
)
_TEXT_SLOTS = ("title", "unit", "signer", "reporter")

_PREFIX_RE = re.compile(
    r"\s*(?:re|fw|fwd|aw|wg|sv|vs|tr|回复|回覆|答复|答覆|回信|转发|转寄|转送)\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
_OPEN_CLOSE = {"【": "】", "[": "]", "〔": "〕", "〖": "〗"}
_URGENT = frozenset({"紧急", "突发", "特急", "加急", "紧急信息", "突发事件", "突发信息"})
_CATEGORIES = ("动态", "综合", "调研", "问题", "敏感")
_CATEGORY_RE = re.compile(rf"(?P<c>{'|'.join(_CATEGORIES)})(?:类|信息|类信息|报告)?")
_YUEGAO_RE = re.compile(r"约稿 *(?:#? *(?P<n>\d{1,9}))?")
_CORRECTION_RE = re.compile(r"更正 *(?:# *(?P<y>\d{4}) *- *(?P<n>\d{1,6}))?")
# The tags of our own item subjects (item_subject below); 采用/退回 were written by earlier releases.
OFFICER_TAG = "报送"  # mails to the item's officer: [报送#2026-0001] …
REVIEWER_TAG = "待审"  # mails to reviewers: [待审#2026-0001] …
_SYSTEM_TAG_RE = re.compile(rf"(?:{OFFICER_TAG}|{REVIEWER_TAG}|采用|退回) *# *\d{{4}} *- *\d{{1,6}}")
_TAG_PART_SEP = re.compile(r"[\s,、|/]+")
_ITEM_REF_RE = re.compile(r"# *(?P<y>\d{4}) *- *(?P<n>\d{1,6})(?!\d)")
_VALUE_TRIM = " \t\r\n;|,、。；｜，\u3000"


@dataclass(frozen=True, slots=True)
class Fields:
    """The six fields of a submission (SPEC §2.1); None when not given."""

    title: str | None = None
    unit: str | None = None
    signer: str | None = None
    reporter: str | None = None
    phone: str | None = None
    date: dt.date | None = None

    def merged_with(self, other: Fields) -> Fields:
        """These fields, with every missing one taken from `other`."""
        return Fields(
            title=self.title if self.title is not None else other.title,
            unit=self.unit if self.unit is not None else other.unit,
            signer=self.signer if self.signer is not None else other.signer,
            reporter=self.reporter if self.reporter is not None else other.reporter,
            phone=self.phone if self.phone is not None else other.phone,
            date=self.date if self.date is not None else other.date,
        )

    def missing(self) -> list[str]:
        """Chinese labels of the required fields that are missing (日期 is never required)."""
        return [label for name, label in _REQUIRED if getattr(self, name) is None]


@dataclass(frozen=True, slots=True)
class SubjectInfo:
    """Everything a submission subject says: its fields and its tags."""

    fields: Fields
    urgent: bool = False
    yuegao: int | None = None
    yuegao_tagged: bool = False
    correction_of: str | None = None
    category: str | None = None
    tags: tuple[str, ...] = ()
    raw: str = ""


@dataclass(slots=True)
class _Tags:
    urgent: bool = False
    yuegao: int | None = None
    yuegao_tagged: bool = False
    correction_of: str | None = None
    category: str | None = None


def _item_number(year: str, seq: str) -> str:
    # Hand-typed references drop the zero padding (#2026-12); items are stored padded.
    return f"{year}-{int(seq):04d}"


def strip_prefixes(subject: str) -> str:
    """`subject` without any number of leading Re:/回复:/Fw:/转发: … prefixes."""
    folded, origin = fold_aligned(subject)
    pos = 0
    while (m := _PREFIX_RE.match(folded, pos)) is not None and m.end() > pos:
        pos = m.end()
    return subject[origin[pos] :].strip()


def find_item_ref(subject: str) -> str | None:
    """The first item number written as ``#YYYY-NNNN`` in `subject` (``＃`` too), else None."""
    folded, _ = fold_aligned(subject)
    m = _ITEM_REF_RE.search(folded)
    return _item_number(m.group("y"), m.group("n")) if m else None


def _tag_parts(inner: str) -> list[str]:
    """The tags inside one bracket (folded): ``紧急、动态`` holds two, ``约稿 # 3`` one."""
    inner = re.sub(r"\s*([#-])\s*", r"\1", inner)
    return [p for p in _TAG_PART_SEP.split(inner.strip()) if p]


def _read_tag(parts: list[str], acc: _Tags) -> bool:
    """Apply the tags of one bracket to `acc`; False when the bracket is not a tag at all."""
    if not parts:
        return False
    found = _Tags()
    for part in parts:
        if part in _URGENT:
            found.urgent = True
        elif (m := _YUEGAO_RE.fullmatch(part)) is not None:
            found.yuegao_tagged = True
            if m.group("n"):
                found.yuegao = int(m.group("n"))
        elif (m := _CORRECTION_RE.fullmatch(part)) is not None:
            if m.group("y"):
                found.correction_of = _item_number(m.group("y"), m.group("n"))
        elif (m := _CATEGORY_RE.fullmatch(part)) is not None:
            found.category = m.group("c")
        elif _SYSTEM_TAG_RE.fullmatch(part) is None:
            return False
    # Only now, so that an unknown bracket leaves nothing behind.
    acc.urgent = acc.urgent or found.urgent
    acc.yuegao_tagged = acc.yuegao_tagged or found.yuegao_tagged
    acc.yuegao = acc.yuegao if acc.yuegao is not None else found.yuegao
    acc.correction_of = acc.correction_of or found.correction_of
    acc.category = acc.category or found.category
    return True


def _split_tags(text: str) -> tuple[_Tags, tuple[str, ...], str]:
    """Leading tags of `text` and the rest, as written."""
    folded, origin = fold_aligned(text)
    acc = _Tags()
    tags: list[str] = []
    pos = 0
    while True:
        while pos < len(folded) and folded[pos].isspace():
            pos += 1
        close = _OPEN_CLOSE.get(folded[pos]) if pos < len(folded) else None
        end = folded.find(close, pos + 1) if close else -1
        parts = _tag_parts(folded[pos + 1 : end]) if end >= 0 else []
        if not _read_tag(parts, acc):
            break
        tags.extend(parts)
        pos = end + 1
    return acc, tuple(tags), text[origin[pos] :]


def _clean(value: str) -> str | None:
    value = value.strip(_VALUE_TRIM)
    return value or None


@dataclass(frozen=True, slots=True)
class Labelled:
    """One labelled value found in text: the field, the label as folded, the value as written."""

    field: str
    label: str
    value: str


def labelled_values(text: str) -> tuple[str, list[Labelled]]:
    """Split `text` at its field labels: (text before the first label, the labelled values).

    Values run to the next label; separators around them are trimmed and empty values dropped.
    """
    folded, origin = fold_aligned(text)
    matches = list(_LABEL_RE.finditer(folded))
    if not matches:
        return text, []
    found: list[Labelled] = []
    for i, m in enumerate(matches):
        stop = matches[i + 1].start() if i + 1 < len(matches) else len(folded)
        value = _clean(text[origin[m.end()] : origin[stop]])
        if value is not None:
            found.append(Labelled(_LABEL_FIELD[m.group("label")], m.group("label"), value))
    return text[: origin[matches[0].start()]], found


def split_trailing_phone(value: str) -> tuple[str, str | None]:
    """``李四 13800138000`` → (``李四``, ``13800138000``); a value without a trailing phone is kept."""
    phone = find_phone(value)
    if phone is None or not value.rstrip().endswith(phone):
        return value, None
    head = _clean(value.rstrip()[: -len(phone)].rstrip(" ,、/:(（"))
    return (head, phone) if head else (value, None)


def _fill(values: dict[str, str], name: str, value: str | None) -> None:
    if value is not None and name not in values:
        values[name] = value


def _assign_unlabelled(parts: list[str], values: dict[str, str], today: dt.date) -> None:
    """Give parts without labels to fields: phones and dates by shape, the rest in slot order."""
    slots = [s for s in _TEXT_SLOTS if s not in values]
    for raw in parts:
        part = _clean(raw)
        if part is not None and "phone" not in values and is_phone(part):
            values["phone"] = part
        elif part is not None and "date" not in values and parse_date(part, today) is not None:
            values["date"] = part
        elif slots:
            # An empty part still uses its slot: 标题||张三 leaves 单位 missing.
            _fill(values, slots.pop(0), part)


def _fields_from(values: Mapping[str, str], today: dt.date) -> Fields:
    reporter, phone = values.get("reporter"), values.get("phone")
    if reporter is not None and phone is None:
        reporter, phone = split_trailing_phone(reporter)
    when = values.get("date")
    return Fields(
        title=values.get("title"),
        unit=values.get("unit"),
        signer=values.get("signer"),
        reporter=reporter,
        phone=phone,
        date=parse_date(when, today) if when is not None else None,
    )


def parse_fields(text: str, today: dt.date) -> Fields:
    """The fields of a subject with its prefixes and tags already removed."""
    folded, origin = fold_aligned(text)
    segments = [text[origin[a] : origin[b]] for a, b in _parts(folded, ";|")]

    split = [labelled_values(segment) for segment in segments]
    # In a positional subject a label inside a part (…开跑，时间：12月8日|…) is title
    # text; only a part that starts with a label makes the subject a labelled one.
    starts_labelled = any(pairs and _clean(head) is None for head, pairs in split)
    values: dict[str, str] = {}
    unlabelled: list[str] = []
    if starts_labelled or "|" not in folded:
        for head, pairs in split:
            for pair in pairs:
                _fill(values, pair.field, pair.value)
            if not pairs or _clean(head) is not None:
                unlabelled.append(head)
    if values:
        _assign_unlabelled([p for p in unlabelled if _clean(p) is not None], values, today)
        return _fields_from(values, today)
    if "|" in folded:
        parts = [text[origin[a] : origin[b]] for a, b in _parts(folded, "|")]
        _assign_unlabelled(parts, values, today)
        return _fields_from(values, today)
    return Fields(title=_clean(text))


def _parts(folded: str, separators: str) -> list[tuple[int, int]]:
    """(start, end) of the pieces of `folded` between any of `separators`."""
    cuts = [i for i, c in enumerate(folded) if c in separators]
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*cuts, len(folded)]
    return list(zip(starts, ends, strict=True))


def parse_subject(subject: str, today: dt.date) -> SubjectInfo:
    """Read a submission subject: strip Re:/Fw: prefixes, read leading tags, then the fields."""
    rest = strip_prefixes(subject)
    acc, tags, rest = _split_tags(rest)
    fields = parse_fields(rest, today)
    return SubjectInfo(
        fields=fields,
        urgent=acc.urgent,
        yuegao=acc.yuegao,
        yuegao_tagged=acc.yuegao_tagged,
        correction_of=acc.correction_of,
        category=acc.category,
        tags=tags,
        raw=subject,
    )


def with_fields(info: SubjectInfo, fields: Fields) -> SubjectInfo:
    """`info` with its fields replaced (e.g. after filling them from the 落款)."""
    return replace(info, fields=fields)


# ---------------------------------------------------------------- our own subjects
#
# Written here, beside the grammar that reads them back (mailbot/core/letters.py composes the
# mails): a reply keeps our subject, so `find_item_ref` finds the item of an item subject, and
# what we put around a 约稿's title is not the officer's.


def item_subject(tag: str, item_id: str, rest: str) -> str:
    """A subject about an item, ``[TAG#2026-0001] rest``; `find_item_ref` reads the number back."""
    return f"[{tag}#{item_id}] {rest}"


_YUEGAO_DUE = re.compile(r"\s*[（(]请于\s*\d{1,2}\s*月\s*\d{1,2}\s*日前报送[）)]\s*$")
_YUEGAO_REMINDER = re.compile(r"^\s*提醒[：:]\s*明天截止\s*")


def yuegao_subject(number: int, title: str, due: dt.date) -> str:
    """The subject of a 约稿 request: 【约稿#N】题目（请于M月D日前报送）."""
    return f"【约稿#{number}】{title}（请于{due.month}月{due.day}日前报送）"


def yuegao_reminder_subject(number: int, title: str) -> str:
    """The subject of the reminder the day before a 约稿 is due."""
    return f"【约稿#{number}】提醒：明天截止 {title}"


def strip_yuegao_wording(title: str) -> str:
    """A title without what `yuegao_subject` and `yuegao_reminder_subject` put around it."""
    return _YUEGAO_REMINDER.sub("", _YUEGAO_DUE.sub("", title)) or title
