"""Finding classified marks (密级标志) so such mail is quarantined, never forwarded (SPEC §2.2).

A classified document must go by the paper channel. The hard part is not
missing a marking while leaving ordinary prose alone: news items talk about
商业秘密, 保守秘密, 不涉密 and 涉密人员培训 all the time. The rule, applied to
folded text (Simplified, half-width):

1. ``密级★期限`` anywhere (``机密★1年``, ``秘密★``), and a bare ``★长期`` / ``★10年``
   standing on its own;
2. a mark alone inside brackets: ``【机密】``, ``[秘密]``, ``(内部资料)``, ``〔绝密★长期〕``;
3. a mark at the start of a line (so also of the subject, body and document)
   followed by nothing, a space, ``★`` or a keeping note — ``机密``,
   ``秘密 注意保存``, ``内部资料 不得外传`` — but not ``涉密人员培训会召开``:
   a mark running on into other words is prose, not a marking;
4. a mark followed by a keeping note anywhere (``内部资料，注意保存``);
5. in a subject only: 绝密, 机密, 内部资料 anywhere, unless negated (非机密, 不涉及机密).
   涉密 and 秘密 are too common in news titles (涉密人员培训会召开,
   商业秘密保护) to count there without a marking shape.
"""

from __future__ import annotations

import re
import unicodedata

from mailbot.core.mail.textnorm import to_simplified

_LEVEL = r"(?:绝密|机密|秘密)"
_MARK = r"(?:绝密|机密|秘密|内部资料|涉密)"
_TERM = r"(?:长期|\d{1,3} *(?:年|个月|月|天|日)|[一二三四五六七八九十两]{1,3} *(?:年|个月))"
_KEEP = r"(?:注意保存|注意保密|妥善保管|不得外传|请勿外传|严禁外传|不得转发|严禁转发|阅后收回|用后收回)"
_STAR = r"[★☆*]"

_STARRED = re.compile(rf"(?P<mark>{_LEVEL} *★ *(?:{_TERM})?)")
_BARE_TERM = re.compile(rf"(?:^|(?<=[\s(\[【〔]))(?P<mark>★ *{_TERM})(?![\u4e00-\u9fff\w])")
_BRACKETED = re.compile(
    rf"[(\[【〔〖<]\s*(?P<mark>{_MARK}(?: *{_STAR} *(?:{_TERM})?)?)(?:[\s,、]*{_KEEP})?\s*[)\]】〕〗>]"
)
_LINE_START = re.compile(
    rf"^[\s\W_]{{0,3}}?(?P<mark>{_MARK}(?: *{_STAR} *(?:{_TERM})?)?)(?=$|\s|{_STAR}|[(:\-])", re.MULTILINE
)
_WITH_KEEP = re.compile(rf"(?P<mark>{_MARK})[\s,、:]*{_KEEP}")
_SUBJECT_ANY = re.compile(r"(?<![非不无未])(?<!不涉及)(?<!不属于)(?P<mark>绝密|机密|内部资料)")


def _fold(text: str) -> str:
    return to_simplified(unicodedata.normalize("NFKC", text))


def _normal(mark: str) -> str:
    # One spelling per mark: no spaces, ☆ and * written as ★.
    return re.sub(r"[☆*]", "★", re.sub(r"\s+", "", mark))


def find_classified_marks(text: str, *, subject: bool = False) -> list[str]:
    """The classified marks in `text` (folded, Simplified), in order of appearance, each once.

    With ``subject=True`` the text is a mail subject and 绝密/机密/内部资料 count anywhere in it.
    """
    folded = _fold(text)
    patterns = [_STARRED, _BARE_TERM, _BRACKETED, _LINE_START, _WITH_KEEP]
    if subject:
        patterns.append(_SUBJECT_ANY)
    spans: list[tuple[int, int, str]] = []
    for pattern in patterns:
        for m in pattern.finditer(folded):
            spans.append((m.start("mark"), m.end("mark"), _normal(m.group("mark"))))
    # Longest first at each start, then drop marks inside one already taken
    # (机密 inside 机密★1年).
    spans.sort(key=lambda s: (s[0], -(s[1] - s[0])))
    taken: list[tuple[int, int, str]] = []
    for start, end, mark in spans:
        if any(s <= start and end <= e for s, e, _ in taken):
            continue
        taken.append((start, end, mark))
    marks: list[str] = []
    for _, _, mark in taken:
        if mark not in marks:
            marks.append(mark)
    return marks
