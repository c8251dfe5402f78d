"""Charset labels as Chinese mail really uses them, and a decoder that never loses Chinese.

Mail labelled ``gb2312`` routinely carries GBK/GB18030-only characters (祐, 慶,
镕, the en dash A8 43), Big5 mail carries HKSCS characters, and many parts carry
no label or one Python does not know (``x-gbk``, ``iso-gb2312``, ``utf-8-purple``).
Decoding strictly with the label and falling back to ``errors="ignore"`` (what
the popular parsers do) makes the Chinese text silently disappear. Here every
label is mapped to the widest compatible codec first, unknown or failing labels
are detected (UTF-8, then GB18030, then charset-normalizer), and a last resort
replaces bad bytes with U+FFFD, so a reader sees that something was there.
"""

from __future__ import annotations

import codecs
import functools
import re

from charset_normalizer import from_bytes

# Labels (normalised: lower case, '_' and ' ' as '-') → the codec that decodes
# everything the label is used for in practice.
_ALIASES: dict[str, str] = {
    # GB2312 is a subset of GBK, which is a subset of GB18030.
    "gb2312": "gb18030",
    "gb-2312": "gb18030",
    "gb2312-80": "gb18030",
    "gb-2312-80": "gb18030",
    "iso-gb2312": "gb18030",
    "csgb2312": "gb18030",
    "euc-cn": "gb18030",
    "euccn": "gb18030",
    "x-euc-cn": "gb18030",
    "cn-gb": "gb18030",
    "chinese": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "windows-936": "gb18030",
    "gb18030": "gb18030",
    "gb-18030": "gb18030",
    "gb18030-2000": "gb18030",
    "gb18030-2005": "gb18030",
    # Big5-HKSCS extends Big5 with the Hong Kong characters.
    "big5": "big5hkscs",
    "big-5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cn-big5": "big5hkscs",
    "csbig5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "x-x-big5": "big5hkscs",
    "hz-gb-2312": "hz",
    "hz": "hz",
    # Japanese and Korean labels: the Microsoft supersets are what clients write.
    "iso-2022-jp": "iso2022_jp_2",
    "shift-jis": "cp932",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "euc-kr": "cp949",
    "ks-c-5601-1987": "cp949",
    "ks-c-5601": "cp949",
    "ksc5601": "cp949",
    # Labels seen in the wild that mean plain UTF-8.
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-unicode20utf8": "utf-8",
    "utf-8": "utf-8",
    # ASCII labels are treated as "probably ASCII": 8-bit bytes are then detected.
    "us-ascii": "ascii",
    "ascii": "ascii",
    "ansi-x3.4-1968": "ascii",
    "iso646-us": "ascii",
    "default": "",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "x-user-defined": "",
}

_CJK_CODECS = frozenset({"gb18030", "big5hkscs", "hz", "iso2022_jp_2", "cp932", "cp949"})
_LATIN = frozenset({"latin-1", "iso8859-1", "cp1252"})
# Tried when the declared codec fails, before guessing.
_SIBLINGS: dict[str, tuple[str, ...]] = {
    "big5hkscs": ("cp950",),
    "cp932": ("shift_jis_2004", "euc_jp"),
    "iso2022_jp_2": ("iso2022_jp_2004", "iso2022_jp_ext"),
    "hz": (),
    "gb18030": (),
}
# Tried only when a 7-bit label meets 8-bit bytes (Shift_JIS labelled ISO-2022-JP).
_EIGHT_BIT_SIBLINGS: dict[str, tuple[str, ...]] = {
    "iso2022_jp_2": ("cp932", "euc_jp"),
    "hz": ("gb18030",),
}
# Characters that a wrong guess produces and real text almost never has: C1 controls,
# IPA and combining marks, Armenian..NKo, private use, U+FFFD.
_ODD = re.compile("[\x80-\x9f\u0250-\u036f\u0530-\u07ff\ue000-\uf8ff\ufffd]")
_WIDE = re.compile("[\u0800-\uffff]")
_NARROW = re.compile("[\x80-\u07ff]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@functools.lru_cache(maxsize=512)
def codec_for(label: str | None) -> str | None:
    """The Python codec to decode text labelled `label` with; '' for "detect"; None if unknown."""
    if label is None:
        return ""
    key = label.strip().strip("\"'").strip().lower().replace("_", "-").replace(" ", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    if not key:
        return ""
    try:
        name = codecs.lookup(key).name
    except (LookupError, ValueError):
        # Microsoft and Apple spell Python's cp874 / mac_cyrillic as windows-874 / x-mac-cyrillic.
        other = re.sub(r"^(?:windows|win|ms)-?(\d+)$", r"cp\1", key)
        other = re.sub(r"^x-mac-", "mac-", other)
        if other == key:
            return None
        try:
            name = codecs.lookup(other).name
        except (LookupError, ValueError):
            return None
    # Python knows these labels but maps them to the narrow codec.
    return {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "euc_kr": "cp949"}.get(name, name)


def is_cjk_codec(codec: str | None) -> bool:
    """True for multibyte East Asian codecs, whose strict success is strong evidence."""
    return codec in _CJK_CODECS


def scrub(text: str) -> str:
    """Replace lone surrogates (they crash SQLite/PostgreSQL inserts) and drop NULs."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    return _SURROGATES.sub("\ufffd", text)


def _strict(data: bytes, codec: str) -> str | None:
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return text


def _odd(text: str) -> int:
    return len(_ODD.findall(text))


def _prefer(utf8: str, other: str) -> str:
    """Choose between a strict UTF-8 and a strict legacy decoding of the same bytes.

    Short GBK strings are often valid UTF-8 too ("中文" is D6 D0 CE C4, which UTF-8
    reads as Hebrew and Greek): the decoding with fewer implausible characters wins,
    UTF-8 on a tie.
    """
    return other if _odd(utf8) > _odd(other) else utf8


def _wide_only(utf8: str) -> bool:
    """True when a UTF-8 decoding has 2+ characters beyond U+07FF and none in U+0080..U+07FF.

    Legacy CJK bytes practically never form several 3-byte UTF-8 sequences and no
    2-byte one, so such bytes are UTF-8 whatever the label says.
    """
    return len(_WIDE.findall(utf8)) >= 2 and _NARROW.search(utf8) is None


def _cut_utf8(data: bytes) -> str | None:
    """Valid UTF-8 but for a character cut off at the end (a truncated header or body), with U+FFFD."""
    for cut in (1, 2, 3):
        text = _strict(data[:-cut], "utf-8")
        if text is not None:
            return text + "\ufffd" if not text.isascii() and not _odd(text) else None
    return None


def detect(data: bytes) -> tuple[str, str]:
    """Decode bytes of unknown charset: UTF-8, then GB18030, then charset-normalizer; (text, codec)."""
    utf8 = _strict(data, "utf-8")
    gb = _strict(data, "gb18030")
    if utf8 is not None:
        if gb is not None and _prefer(utf8, gb) is gb:
            return gb, "gb18030"
        return utf8, "utf-8"
    cut = _cut_utf8(data)
    if cut is not None:
        return cut, "utf-8?"
    if gb is not None:
        return gb, "gb18030"
    best = from_bytes(data).best()
    if best is not None:
        return str(best), best.encoding
    # Nothing decodes cleanly: GB18030 with U+FFFD keeps every decodable Chinese character.
    return data.decode("gb18030", errors="replace"), "gb18030?"


def decode_bytes(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """Decode `data` labelled `declared` (None: no label); return the text and a defect note or None.

    Never raises, never drops characters silently and never returns surrogates.
    """
    if not data:
        return "", None
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data, "utf-8-sig" if bom_codec == "utf-8" else bom_codec)
            if text is not None:
                return scrub(text), None
            break
    codec = codec_for(declared)
    if codec:
        text = _strict(data, codec)
        if text is not None:
            if codec in _LATIN and not data.isascii():
                # A UTF-8 body mislabelled latin-1 decodes "fine" into mojibake; valid
                # UTF-8 with 8-bit bytes is never real latin-1 text in practice.
                utf8 = _strict(data, "utf-8")
                if utf8 is not None:
                    return scrub(utf8), f"declared {declared} but is UTF-8"
            elif is_cjk_codec(codec) and not data.isascii():
                utf8 = _strict(data, "utf-8")
                if utf8 is not None and (_odd(text) > _odd(utf8) or _wide_only(utf8)):
                    return scrub(utf8), f"declared {declared} but is UTF-8"
            return scrub(text), None
        if codec != "ascii":
            # 7-bit codecs (ISO-2022, HZ) fail on ASCII bytes that UTF-8 would "decode" unchanged.
            eight_bit = () if data.isascii() else ("utf-8", *_EIGHT_BIT_SIBLINGS.get(codec, ()))
            for other in (*_SIBLINGS.get(codec, ()), *eight_bit):
                text = _strict(data, other)
                if text is not None and other != codec:
                    return scrub(text), f"invalid {declared} text; decoded as {other}"
            if is_cjk_codec(codec) or codec == "utf-8":
                # Most of the text is in the declared charset: keep it, mark the bad bytes.
                text = data.decode(codec, errors="replace")
                return scrub(text), f"invalid {declared} bytes replaced with U+FFFD"
    if data.isascii():
        return scrub(data.decode("ascii")), None if codec is not None else f"unknown charset {declared!r}"
    text, found = detect(data)
    if codec == "ascii" or (codec == "" and declared is None):
        note = None if found == "utf-8" else f"no charset declared; detected {found}"
    elif codec is None:
        note = f"unknown charset {declared!r}; detected {found}"
    else:
        note = f"invalid {declared} text; detected {found}"
    if found == "utf-8?":
        note = "invalid UTF-8 bytes replaced with U+FFFD"
    elif found.endswith("?"):
        note = f"undecodable bytes (charset {declared or 'none'}) replaced with U+FFFD"
    return scrub(text), note


def decode_header_bytes(data: bytes, hint: str | None = None) -> str:
    """Decode raw 8-bit header bytes: UTF-8, the mail's own CJK charset `hint`, GB18030, then detect."""
    if data.isascii():
        return scrub(data.decode("ascii"))
    utf8 = _strict(data, "utf-8")
    if utf8 is None:
        # A cut-off UTF-8 name is still UTF-8; legacy codecs would turn it into 汉字 mojibake.
        cut = _cut_utf8(data)
        if cut is not None:
            return scrub(cut)
    codec = codec_for(hint)
    for legacy in (codec, "gb18030"):
        if legacy and is_cjk_codec(legacy):
            text = _strict(data, legacy)
            if text is not None:
                return scrub(text if utf8 is None else _prefer(utf8, text))
    if utf8 is not None:
        return scrub(utf8)
    return decode_bytes(data, None)[0]
