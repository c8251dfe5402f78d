"""Dates and telephone numbers as Chinese officers write them in subjects and 落款.

A submission names its 日期 and 联系电话 in many shapes (``2026.11.3``,
``二〇二六年十一月三日``, ``（020）8312 3456转801`` …), often without a label,
so the subject parser recognises them by shape. Everything here is pure.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from mailbot.core.mail.textnorm import to_simplified

# Chinese numerals as they appear in dates. 〇 (U+3007), ○ (U+25CB), 零 and a
# Latin O typed by mistake all mean zero in a year.
_CN_DIGIT = {
    "〇": 0,
    "○": 0,
    "零": 0,
    "O": 0,
    "o": 0,
    "0": 0,
    "一": 1,
    "壹": 1,
    "元": 1,
    "二": 2,
    "两": 2,
    "贰": 2,
    "三": 3,
    "叁": 3,
    "四": 4,
    "肆": 4,
    "五": 5,
    "伍": 5,
    "六": 6,
    "陆": 6,
    "七": 7,
    "柒": 7,
    "八": 8,
    "捌": 8,
    "九": 9,
    "玖": 9,
}
_CN_TENS = {"十": 10, "拾": 10, "廿": 20, "卅": 30}
_YEAR_CN = "〇○零Oo0一二三四五六七八九"
_SMALL_CN = "一二三四五六七八九十壹贰叁肆伍陆柒捌玖拾廿卅两〇○零元"

_YEAR = rf"(?P<y>\d{{4}}|[{_YEAR_CN}]{{4}})"
_MONTH = rf"(?P<m>\d{{1,2}}|[{_SMALL_CN}]{{1,3}})"
_DAY = rf"(?P<d>\d{{1,2}}|[{_SMALL_CN}]{{1,4}})"

# Numeric dates need the same separator twice so 2026-11.3 is not a date.
_NUMERIC = r"(?<!\d)(?P<ny>\d{4}) *(?P<sep>[-/.]) *(?P<nm>\d{1,2}) *(?P=sep) *(?P<nd>\d{1,2})(?!\d|\.\d)"
_YMD = rf"(?<![\d〇○零一二三四五六七八九]){_YEAR} *年 *{_MONTH} *月 *{_DAY} *[日号]"
_MD = rf"(?<![\d年{_SMALL_CN}])(?P<m2>\d{{1,2}}|[{_SMALL_CN}]{{1,3}}) *月 *(?P<d2>\d{{1,2}}|[{_SMALL_CN}]{{1,4}}) *[日号]"
_DATE_RE = re.compile(rf"{_NUMERIC}|{_YMD}|{_MD}")
# What may follow a date in a field without making it something else.
_DATE_TAIL = re.compile(r"\s*(?:\(?(?:星期|周|礼拜)[一二三四五六日天]\)?)?\s*[.。]?\s*")

# A year written without one is assumed to be this year unless that would put
# it further than this into the future (a December item reported in January).
_FUTURE_SLACK = timedelta(days=60)

_MOBILE = r"(?:\+?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}"
_AREA_LINE = r"(?:\(0\d{2,3}\) ?|0\d{2,3}[ -]?)[2-9]\d{2,3}[ -]?\d{4}"
_SERVICE = r"[48]00[ -]?\d{3}[ -]?\d{4}"
_LOCAL = r"[2-9]\d{2,3}[ -]?\d{4}"
_EXT = r"(?: *(?:-|转|分机|ext\.?|x) *\d{1,6})?"
_PHONE_STRONG = re.compile(rf"(?<![\d+])(?:{_MOBILE}|{_SERVICE}|{_AREA_LINE}{_EXT})(?!\d)", re.IGNORECASE)
_PHONE_LOCAL = re.compile(rf"(?<![\d+\-(])(?:{_LOCAL}{_EXT})(?![\d\-])", re.IGNORECASE)
_PHONE_LIST_SEP = re.compile(r"[ ,、/;]+")


def fold_aligned(text: str) -> tuple[str, list[int]]:
    """Fold `text` like textnorm.fold (without stripping) and map each folded char to its source.

    The map has one extra entry, len(text), so ``text[m[i]:m[j]]`` is the raw
    slice behind ``folded[i:j]`` for any 0 <= i <= j <= len(folded).
    """
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        piece = unicodedata.normalize("NFKC", ch)
        pieces.append(piece)
        origin.extend([i] * len(piece))
    nfkc = "".join(pieces)
    folded = to_simplified(nfkc)
    if len(folded) != len(nfkc):
        # OpenCC rarely changes length (phrase tables); fall back to char by char.
        folded = "".join(to_simplified(c) if len(to_simplified(c)) == 1 else c for c in nfkc)
    origin.append(len(text))
    return folded, origin


def _fold(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text))


def _cn_number(s: str) -> int | None:
    """Value of a small number written in digits or Chinese numerals (1–99), else None."""
    if s.isdigit():
        return int(s)
    if len(s) == 1 and s in _CN_DIGIT:
        return _CN_DIGIT[s]
    tens_at = [i for i, c in enumerate(s) if c in _CN_TENS]
    if len(tens_at) != 1:
        # 二一 is not how a day is written, but 〇三 sometimes is (二〇二六年〇三月).
        if len(s) == 2 and s[0] in "〇○零" and s[1] in _CN_DIGIT:
            return _CN_DIGIT[s[1]]
        return None
    i = tens_at[0]
    head, unit, tail = s[:i], _CN_TENS[s[i]], s[i + 1 :]
    if head and (unit != 10 or len(head) != 1 or head not in _CN_DIGIT):
        return None
    if len(tail) > 1 or (tail and tail not in _CN_DIGIT):
        return None
    return (_CN_DIGIT[head] if head else 1) * unit + (_CN_DIGIT[tail] if tail else 0)


def _year(s: str) -> int | None:
    if s.isdigit() and s.isascii():
        return int(s)
    digits = [_CN_DIGIT.get(c) for c in s]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def _make(year: int | None, month: int | None, day: int | None) -> date | None:
    if year is None or month is None or day is None or not 1900 <= year <= 2199:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _from_match(m: re.Match[str], today: date) -> date | None:
    if m.group("ny"):
        return _make(int(m.group("ny")), int(m.group("nm")), int(m.group("nd")))
    if m.group("y"):
        return _make(_year(m.group("y")), _cn_number(m.group("m")), _cn_number(m.group("d")))
    month, day = _cn_number(m.group("m2")), _cn_number(m.group("d2"))
    found = _make(today.year, month, day)
    if found is None and month == 2 and day == 29:
        found = _make(today.year - 1, month, day)
    if found is not None and found - today > _FUTURE_SLACK:
        found = _make(today.year - 1, month, day)
    return found


def parse_date(text: str, today: date) -> date | None:
    """The date `text` consists of (any accepted format, Simplified or Traditional), else None.

    A trailing weekday such as ``（星期二）`` is allowed; anything else around the date is not.
    """
    folded = _fold(text).strip()
    m = _DATE_RE.match(folded)
    if m is None or not _DATE_TAIL.fullmatch(folded, m.end()):
        return None
    return _from_match(m, today)


def find_date(text: str, today: date) -> date | None:
    """The first valid date written anywhere in `text`, else None."""
    for m in _DATE_RE.finditer(_fold(text)):
        found = _from_match(m, today)
        if found is not None:
            return found
    return None


def is_date(s: str, today: date) -> bool:
    """Whether `s` is exactly one date (see parse_date)."""
    return parse_date(s, today) is not None


def find_phone(text: str) -> str | None:
    """The first telephone number in `text`, as written (trimmed), else None.

    Mobiles and numbers with an area code win over a bare 7–8 digit local number,
    which could also be an amount.
    """
    folded, origin = fold_aligned(text)
    m = _PHONE_STRONG.search(folded) or _PHONE_LOCAL.search(folded)
    if m is None:
        return None
    return text[origin[m.start()] : origin[m.end()]].strip()


def is_phone(s: str) -> bool:
    """Whether `s` is one telephone number, or several separated by ``、`` ``/`` ``,`` or spaces."""
    folded = _fold(s).strip()
    if not folded:
        return False
    pos = 0
    while pos < len(folded):
        m = _PHONE_STRONG.match(folded, pos) or _PHONE_LOCAL.match(folded, pos)
        if m is None:
            return False
        pos = m.end()
        sep = _PHONE_LIST_SEP.match(folded, pos)
        if sep is not None:
            pos = sep.end()
            if pos == len(folded):
                return False
    return True
