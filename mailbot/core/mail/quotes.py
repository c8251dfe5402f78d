"""Find what a reviewer actually wrote in a reply, leaving the quoted original behind.

Our own review request, quoted back in every reply, contains the words 采用 and
不采用 (the command table), so reading one line of the quote as a command would
adopt or reject an item nobody decided on. Everything below the first reply
separator is therefore dropped before the command parser sees the text.

Why hand-written rules and not a library: ``email-reply-parser`` knows only
English ``On … wrote:`` and ``>`` quotes; ``mail-parser-reply`` (1.36) has a
Chinese table but needs an ASCII colon after 发件人, a ``YYYY年M月D日`` date in
the 写道 line, knows neither ``------------------ 原始邮件 ------------------``
nor Coremail's ``----- 原始邮件 -----`` nor Traditional Outlook headers, and
strips lines such as ``谢谢，`` as signatures. So the layouts are kept here as
data (compiled patterns), matched on folded lines (textnorm.fold: NFKC turns
the full-width colon, space and ``＞`` into ASCII, Traditional becomes
Simplified), which lets one pattern serve every variant.

Bottom-posting (the command typed below a ``>`` quote) is honoured: when
nothing but blank lines and an attribution precede the first quote, the
unquoted text after it is the reply.
"""

from __future__ import annotations

import re
from enum import Enum

from mailbot.core.mail.textnorm import fold

# Separator lines: everything from here down is the original message.
_SEPARATORS: tuple[re.Pattern[str], ...] = (
    # -----原始邮件----- (Coremail, Outlook), ------------------ 原始邮件 ------------------
    # (QQ Mail, Foxmail, with U+00A0 folded to space), -------- 原始信息 -------- (Thunderbird),
    # -----邮件原件----- (Outlook zh), -----Original Message-----, ---------- Forwarded message ---------.
    # Trailing dashes are optional because Thunderbird may wrap the separator.
    re.compile(
        r"^-{2,}\s*(原始邮件|原始信息|邮件原件|原邮件|转发邮件|转发的邮件|转发信息"
        r"|original message|original|forwarded message|message d'origine)\s*-*$",
        re.IGNORECASE,
    ),
    # Outlook's rule above its From:/发件人: block (32 underscores; wrapped or shortened in practice).
    re.compile(r"^_{10,}$"),
    # The <hr> of an HTML-only reply (Outlook's divRplyFwdMsg) after html2text.
    re.compile(r"^(\*\s*){3,}$"),
)

# Attribution lines ("someone wrote:"). Matched on one line or on two joined lines,
# because Gmail and Thunderbird wrap long attributions.
_ATTRIBUTIONS: tuple[re.Pattern[str], ...] = (
    # 在 2026年11月3日，下午3:02，张三 <a@b> 写道： / 在 2026/11/3 10:02, 张三 写道: /
    # 在 2026-11-03 10:00:00，"张三" <a@b> 写道：
    re.compile(r"^在\s*.*\d.*写道\s*:?$"),
    # Gmail zh: 张三 <a@b> 于2026年11月3日周二 10:02写道：
    re.compile(r"^.*于\s*\d{4}\s*[年/-].*写道\s*:?$"),
    # Apple Mail (macOS) puts the date first: 2026年11月3日 15:02，张三 <a@b> 写道：
    re.compile(r"^\d{4}\s*[年/-].*写道\s*:?$"),
    # Gmail/Thunderbird/163 English: On Tue, Nov 3, 2026 at 10:02 AM 张三 <a@b> wrote: / At 2026-11-03 …
    re.compile(r"^(on|at|le|am)\s.*\d.*\s(wrote|a écrit|schrieb)\s*:?$", re.IGNORECASE),
    re.compile(r"^.*<[^>\s]+@[^>\s]+>\s*(写道|wrote)\s*:?$", re.IGNORECASE),
)
# The first half of a wrapped attribution.
_ATTRIBUTION_START = re.compile(r"^(在|(on|at)\s).*\d", re.IGNORECASE)

# Header blocks (Outlook, Foxmail, Coremail): a From-like line followed closely by
# other header lines. One From-like line alone is not enough, so a reply that
# happens to start with "From:" is not swallowed.
_HEADER_FROM = re.compile(r"^\**\s*(发件人|寄件者|寄件人|from)\s*\**\s*:", re.IGNORECASE)
_HEADER_OTHER = re.compile(
    r"^\**\s*(发送时间|发件时间|发送日期|寄件日期|传送时间|日期|时间|收件人|收件者|至|抄送|副本|主题|主旨"
    r"|sent|date|to|cc|subject)\s*\**\s*:",
    re.IGNORECASE,
)
_HEADER_LOOKAHEAD = 4  # non-blank lines after the From-like line that may hold the next header

_QUOTED = re.compile(r"^>")


class _Cut(Enum):
    NONE = "none"  # no quote at all
    QUOTE = "quote"  # a > line
    ATTRIBUTION = "attribution"  # "… wrote:" / "在 … 写道："
    ORIGINAL = "original"  # a separator or header block: the rest is the original mail


def strip_quotes(text: str) -> str:
    """Return only what the replier wrote: the text above the first quote or reply separator.

    For a bottom-posted reply (nothing but an attribution above a ``>`` quote) return the
    unquoted text below the quote instead.
    """
    lines = text.splitlines()
    folded = [fold(line) for line in lines]
    start = 0
    while True:
        cut, end, kind = _find_cut(folded, start)
        head = lines[start:cut]
        if kind is _Cut.NONE or any(line.strip() for line in head):
            return _trim(head)
        if kind is _Cut.ORIGINAL:
            return ""
        # Bottom-posting: skip the attribution and the quote, read what follows.
        j = end
        while j < len(folded) and (not folded[j] or _QUOTED.match(folded[j])):
            j += 1
        if j >= len(folded):
            return ""
        start = j


def _find_cut(folded: list[str], start: int) -> tuple[int, int, _Cut]:
    """The first quote-like line at or after `start`: (its index, index after it, kind)."""
    for i in range(start, len(folded)):
        line = folded[i]
        if not line:
            continue
        if _QUOTED.match(line):
            return i, i + 1, _Cut.QUOTE
        if any(p.match(line) for p in _SEPARATORS):
            return i, i + 1, _Cut.ORIGINAL
        if _is_header_block(folded, i):
            return i, i + 1, _Cut.ORIGINAL
        if _is_attribution(line):
            return i, i + 1, _Cut.ATTRIBUTION
        if _ATTRIBUTION_START.match(line):
            for span in (1, 2):
                if i + span < len(folded) and _is_attribution(" ".join(folded[i : i + span + 1])):
                    return i, i + span + 1, _Cut.ATTRIBUTION
    return len(folded), len(folded), _Cut.NONE


def _is_attribution(line: str) -> bool:
    return any(p.match(line) for p in _ATTRIBUTIONS)


def _is_header_block(folded: list[str], i: int) -> bool:
    if not _HEADER_FROM.match(folded[i]):
        return False
    following = [line for line in folded[i + 1 : i + 1 + 2 * _HEADER_LOOKAHEAD] if line]
    return any(_HEADER_OTHER.match(line) for line in following[:_HEADER_LOOKAHEAD])


def _trim(lines: list[str]) -> str:
    """Join lines, dropping blank lines at both ends and trailing spaces."""
    kept = [line.rstrip() for line in lines]
    while kept and not kept[0].strip():
        kept.pop(0)
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept)
