"""Text folding so that Traditional/Simplified and full-/half-width forms compare equal.

Mail is stored as written; only comparisons and keyword matching use the folded form.
"""

from __future__ import annotations

import functools
import unicodedata

import opencc

# OpenCC's converter is costly to build and thread-safe to share.
_T2S = opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Convert Traditional characters to Simplified, leaving everything else alone."""
    return str(_T2S.convert(text))


def fold(text: str) -> str:
    """Fold text for matching: NFKC (full-width → half-width), Simplified, no outer spaces.

    Full-width space U+3000 becomes a plain space; 【】 are left as they are
    because NFKC does not touch them.
    """
    return to_simplified(unicodedata.normalize("NFKC", text)).strip()
