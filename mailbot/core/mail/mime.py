"""Raw RFC 5322 bytes → ParsedMail: headers, text and attachments, decoded robustly.

Real mail is broken in every way (see ../shared/corpus/real-world): legacy
Chinese charsets, mislabelled gb2312, raw 8-bit headers, missing boundaries.
parse_mail never raises on bad input; what it could not decode is noted in
`defects`.

The stdlib parser runs in compat32 mode (what mail-parser uses inside, and
3-4x faster than policy.default, which also raises on some real mail); every
header, parameter and body is then decoded here with mailbot.core.mail.charsets, because
both the stdlib and mail-parser fall back to dropping undecodable Chinese.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import email
import email.message
import email.utils
import logging
import mimetypes
import quopri
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser

from mailbot.core.mail.charsets import codec_for, decode_bytes, decode_header_bytes, is_cjk_codec, scrub

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached file, decoded."""

    filename: str  # decoded name as the sender gave it ('' when none)
    safe_name: str  # a name that is safe on any file system (no path, no NUL, no device names)
    content_type: str  # lower-case, e.g. "application/pdf"
    data: bytes
    # Shown inside the body: has a Content-ID, or is an image with Content-Disposition: inline.
    # A .docx sent "inline" (Apple Mail does) is still a file: inline=False.
    inline: bool = False


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """What mailbot needs of one received mail."""

    message_id: str  # without <>; '' when the mail has none
    from_addr: str  # lower-case bare address; '' when unreadable
    from_name: str
    to: tuple[str, ...]
    subject: str  # decoded, unfolded, stripped
    date: datetime | None  # timezone-aware when the header had a zone
    in_reply_to: str  # without <>
    references: tuple[str, ...]  # without <>, in order
    headers: Mapping[str, tuple[str, ...]]  # lower-case name → decoded values, in order
    text: str  # the body as plain text (text/plain, else the HTML turned into text)
    html: str  # the HTML body, '' when none
    attachments: tuple[Attachment, ...]
    content_type: str  # top-level, lower-case, e.g. "multipart/report"
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        """The first value of header `name` (case-insensitive), or ''."""
        values = self.headers.get(name.lower(), ())
        return values[0] if values else ""


def parse_mail(raw: bytes, *, max_bytes: int | None = None) -> ParsedMail:
    """Parse one raw mail. Never raises: whatever could not be read is listed in `defects`.

    A mail over `max_bytes` is read for its headers only (no text, no attachments).
    """
    data = bytes(raw)
    size_note = ""
    if max_bytes is not None and len(data) > max_bytes:
        # The stdlib parser holds ~4 times a mail's size as line objects: a 100 MB mail
        # that will be refused for its size anyway must not cost 500 MB to read.
        data = _split_head(data)[0] + b"\r\n\r\n"
        size_note = f"body not read: {len(raw)} bytes over the {max_bytes} byte limit"
    try:
        mail = _parse(data)
        return dataclasses.replace(mail, defects=(*mail.defects, size_note)) if size_note else mail
    except Exception as exc:  # a bug or pathological input must never stop the daemon
        log.warning("parse_mail fell back to a header scan: %r", exc)
        try:
            return _scan(data, f"parser failed: {type(exc).__name__}")
        except Exception as exc2:
            return _empty(f"parser failed: {type(exc).__name__}; scan failed: {type(exc2).__name__}")


def safe_filename(name: str, fallback: str = "attachment.bin") -> str:
    """A file name safe on any file system: no directories, control or reserved characters, device names.

    At most 150 characters and 240 UTF-8 bytes (ext4 allows 255), keeping the extension.
    """
    name = _INVISIBLE.sub("", scrub(name)).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARS.sub("_", name).strip(" .")
    if not name:
        name = fallback
    if name.split(".", 1)[0].rstrip(" ").lower() in _DEVICE_NAMES:
        name = "_" + name
    if len(name) > _MAX_NAME_CHARS or len(name.encode()) > _MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not dot or len(ext) > 16:
            stem, ext = name, ""
        ext = f".{ext}" if ext else ""
        budget_chars = _MAX_NAME_CHARS - len(ext)
        stem = stem[:budget_chars]
        while len((stem + ext).encode()) > _MAX_NAME_BYTES:
            stem = stem[:-1]
        name = stem.rstrip(" .") + ext
    return name


# ---------------------------------------------------------------- internals

_MAX_NAME_CHARS = 150
_MAX_NAME_BYTES = 240
_MAX_DEPTH = 40  # MIME nesting beyond this is an attack, not a mail
_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"com{i}" for i in range(10)}
    | {f"lpt{i}" for i in range(10)}
)
_UNSAFE_CHARS = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"|?*]')
# Bidi overrides disguise "exe.docx" as "xcod.exe"; zero-width characters hide differences.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLDING = re.compile(rb"(?:\r\n|\r|\n)(?=[ \t])")
_WHITESPACE_CTL = re.compile(r"[\t\r\n\x0b\x0c]")
_IDS = re.compile(r"<([^<>\s]*)>|([^\s,<>]+)")
_ADDRESS = re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([-\w.:]+)""", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n{3,}")
_FALLBACK_NAMES = {
    "message/rfc822": "forwarded.eml",
    "message/global": "forwarded.eml",
    "message/delivery-status": "delivery-status.txt",
    "message/global-delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "text/rfc822-headers": "headers.txt",
    "application/ms-tnef": "winmail.dat",
}


def _raw_bytes(value: object) -> bytes:
    """A header value back to its raw bytes: compat32 keeps 8-bit bytes as surrogate escapes."""
    return str(value).encode("utf-8", "surrogateescape")


class _Notes:
    """Collects defect notes in order, without duplicates."""

    def __init__(self) -> None:
        self.items: dict[str, None] = {}

    def add(self, note: str | None, where: str = "") -> None:
        if note and len(self.items) < 50:
            self.items[f"{where}: {note}" if where else note] = None


def _b_decode(text: bytes) -> bytes:
    text = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    if len(text) % 4 == 1:  # one stray character can never be data
        text = text[:-1]
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""


def _decode_header(value: str | bytes, hint: str | None = None, notes: _Notes | None = None) -> str:
    """Decode a raw header value: RFC 2047 words (joined without spaces, split characters rejoined) and 8-bit bytes."""
    raw = value if isinstance(value, bytes) else _raw_bytes(value)
    raw = _FOLDING.sub(b"", raw)
    if raw.isascii() and b"=?" not in raw:
        return _WHITESPACE_CTL.sub(" ", raw.decode("ascii").replace("\x00", "")).strip()
    out: list[str] = []
    pending: bytearray = bytearray()
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            text, note = decode_bytes(bytes(pending), pending_charset or None)
            if notes is not None:
                notes.add(note, "header")
            out.append(text)
        pending, pending_charset = bytearray(), None

    for match in _ENCODED_WORD.finditer(raw):
        between = raw[pos : match.start()]
        if between.strip(b" \t\r\n") or pending_charset is None:
            flush()
            if between:
                out.append(decode_header_bytes(between, hint))
        charset = match.group(1).split(b"*", 1)[0].decode("ascii", "replace").lower()
        payload = match.group(3)
        if match.group(2) in b"bB":
            chunk = _b_decode(payload)
        else:
            chunk = quopri.decodestring(payload.replace(b"_", b" "), header=False)
        if pending_charset is not None and codec_for(charset) != codec_for(pending_charset):
            flush()
        # Adjacent words of one charset are decoded together: a client may split a
        # multibyte character across two words.
        pending_charset = charset
        pending += chunk
        pos = match.end()
    flush()
    if pos < len(raw):
        out.append(decode_header_bytes(raw[pos:], hint))
    return scrub(_WHITESPACE_CTL.sub(" ", "".join(out))).strip()


def _split_params(value: str) -> list[str]:
    """Split a structured header on ';' outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value.strip('"')


def _params(value: str, hint: str | None, notes: _Notes) -> tuple[str, dict[str, str]]:
    """The main value (lower case) and decoded parameters of Content-Type/-Disposition.

    Handles RFC 2231 (charset'lang'%XX, continuations name*0*, name*1), RFC 2047
    inside quoted values and raw 8-bit bytes.
    """
    items = _split_params(value)
    main = items[0].strip().lower()
    plain: dict[str, str] = {}
    pieces: dict[str, list[tuple[int, bool, str]]] = {}
    for item in items[1:]:
        key, eq, val = item.partition("=")
        if not eq:
            continue
        key = key.strip().lower()
        m = re.fullmatch(r"([^*]+)\*(?:(\d+)\*?|)", key)
        extended = key.endswith("*")
        if m and "*" in key:
            index = int(m.group(2)) if m.group(2) is not None else 0
            pieces.setdefault(m.group(1), []).append((index, extended, _unquote(val)))
        elif key not in plain:
            plain[key] = val
    result = {key: _decode_header(_unquote(val), hint, notes) for key, val in plain.items()}
    for key, parts in pieces.items():
        parts.sort(key=lambda p: p[0])
        charset: str | None = None
        data = bytearray()
        for n, (_, extended, val) in enumerate(parts):
            if extended:
                if n == 0 and val.count("'") >= 2:
                    charset, _, val = val.split("'", 2)
                data += _percent_decode(val)
            else:
                data += _raw_bytes(val)
        if charset:
            text, note = decode_bytes(bytes(data), charset)
            notes.add(note, f"parameter {key}")
        else:
            text = _decode_header(bytes(data), hint, notes)
        result[key] = _WHITESPACE_CTL.sub(" ", scrub(text))
    return main, result


def _percent_decode(text: str) -> bytes:
    raw = _raw_bytes(text)
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def _ids(value: str) -> tuple[str, ...]:
    """Message-IDs without <>, split on whitespace and commas (Exchange), in order."""
    found = (a or b for a, b in _IDS.findall(value))
    return tuple(dict.fromkeys(scrub(i) for i in found if i))


def _addresses(values: list[str], hint: str | None, notes: _Notes) -> list[tuple[str, str]]:
    """(decoded name, lower-case bare address) pairs; addresses parsed before names are decoded."""
    pairs: list[tuple[str, str]] = []
    try:
        parsed = email.utils.getaddresses([str(v) for v in values])
    except Exception:
        parsed = []
    for name, addr in parsed:
        addr = addr.strip().strip("<>").strip()
        if not addr.isascii():
            addr = decode_header_bytes(_raw_bytes(addr), hint)
        if not addr and not name:
            continue
        if any(ch.isspace() for ch in addr) or "=?" in addr:
            # "=?ks_c_5601-1987?B?…?= ss.lee@gph.me" (no <>) arrives as one address.
            hit = _ADDRESS.search(addr)
            rest = addr if hit is None else addr[: hit.start()] + addr[hit.end() :]
            name = f"{name} {rest}".strip()
            addr = hit.group(0) if hit else ""
        pairs.append((_decode_header(name, hint, notes).strip("\"' "), scrub(addr).lower()))
    if values and not any("@" in addr for _, addr in pairs):
        # The whole address may sit inside an encoded word: look again after decoding.
        found = _ADDRESS.findall(" ".join(_decode_header(v, hint) for v in values))
        if found or not pairs:
            pairs = [("", scrub(a).lower()) for a in found]
    return pairs


def _parse_date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class _HtmlToText(HTMLParser):
    """HTML → plain text keeping line structure; script/style dropped, table cells tab-separated.

    Not html2text: its Markdown escapes (``1\\.``, ``#``, ``*``) and merged table
    cells would corrupt the 落款 lines the signature parser reads.
    """

    _SKIP = frozenset({"script", "style", "title", "noscript", "template", "xml"})
    _PARAGRAPH = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl"}
    )
    _BLOCK = frozenset(
        {
            "div",
            "tr",
            "li",
            "hr",
            "section",
            "article",
            "header",
            "footer",
            "dt",
            "dd",
            "address",
            "center",
            "form",
            "fieldset",
            "nav",
            "aside",
            "figure",
            "caption",
            "body",
            "main",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.newlines = 1  # trailing newlines in `out`; 1 at the start so no leading break is added
        self.skip = 0
        self.pre = 0
        self.cell = 0

    def _break(self, count: int) -> None:
        if self.newlines < count:
            self.out.append("\n" * (count - self.newlines))
            self.newlines = count

    def _tag(self, tag: str, start: bool) -> None:
        if tag in self._SKIP:
            self.skip = self.skip + 1 if start else max(0, self.skip - 1)
        elif tag == "br":
            self.out.append("\n")
            self.newlines += 1
        elif tag in ("td", "th"):
            if start and self.cell:
                self.out.append("\t")
                self.newlines = 0
            self.cell += start
        elif tag in self._PARAGRAPH or tag in self._BLOCK:
            self._break(2 if tag in self._PARAGRAPH else 1)
            if tag == "tr":
                self.cell = 0
            if tag == "pre":
                self.pre = self.pre + 1 if start else max(0, self.pre - 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, True)
        if tag not in ("br", "td", "th"):
            self._tag(tag, False)

    def handle_endtag(self, tag: str) -> None:
        if tag != "br":
            self._tag(tag, False)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
            if data == " " and self.newlines:
                return  # indentation of the HTML source
        self.out.append(data.replace("\xa0", " "))
        self.newlines = len(data) - len(data.rstrip("\n"))

    def text(self) -> str:
        lines = (re.sub(r" *\t *", "\t", line).strip(" ") for line in "".join(self.out).split("\n"))
        # Empty table cells leave lines of tabs: they are blank lines.
        text = "\n".join(line if line.strip() else "" for line in lines)
        return _BLANK_LINES.sub("\n\n", text).strip("\n")


def html_to_text(html: str) -> str:
    """The text of an HTML body, one line per block, no styles or scripts."""
    parser = _HtmlToText()
    try:
        parser.feed(html)
        parser.close()
        return parser.text()
    except Exception:  # HTMLParser is lenient, but a crash here must not lose the mail
        return re.sub(r"<[^>]*>", " ", html)


def _leaves(part: email.message.Message, depth: int = 0) -> Iterator[email.message.Message]:
    """Leaf parts in order; message/* parts are leaves (a forwarded mail is an attachment)."""
    if depth > _MAX_DEPTH:
        return
    payload = part.get_payload()
    if isinstance(payload, list) and part.get_content_maintype() != "message":
        for sub in payload:
            if isinstance(sub, email.message.Message):
                yield from _leaves(sub, depth + 1)
    else:
        yield part


def _header_value(part: email.message.Message, name: str) -> str:
    """The raw value (surrogate escapes kept) of the first header `name` of a part."""
    lname = name.lower()
    for key, value in part.raw_items():
        if key.lower() == lname:
            return str(value)
    return ""


def _part_bytes(part: email.message.Message, notes: _Notes) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, list):
        try:
            return b"".join(p.as_bytes() for p in payload if isinstance(p, email.message.Message))
        except Exception as exc:
            notes.add(f"cannot serialise {part.get_content_type()}: {type(exc).__name__}")
            return b""
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        notes.add(f"cannot decode {part.get_content_type()} body: {type(exc).__name__}")
        data = None
    if isinstance(data, bytes):
        return data
    return _raw_bytes(payload) if isinstance(payload, str) else b""


def _hint(msg: email.message.Message) -> str | None:
    """The first CJK charset the mail declares: the best guess for its raw 8-bit headers."""
    for part in msg.walk():
        charset = part.get_param("charset")
        if isinstance(charset, str) and is_cjk_codec(codec_for(charset)):
            return charset
    return None


def _parse(raw: bytes) -> ParsedMail:
    notes = _Notes()
    if raw.startswith(b"\xef\xbb\xbf"):
        # Some Windows tools save .eml with a UTF-8 BOM, which hides the first header.
        raw = raw[3:]
        notes.add("UTF-8 BOM before the headers")
    msg = email.message_from_bytes(raw)
    hint = _hint(msg)
    headers: dict[str, list[str]] = {}
    raw_headers: dict[str, list[str]] = {}
    for key, value in msg.raw_items():
        lkey = scrub(key.strip().lower())
        raw_headers.setdefault(lkey, []).append(str(value))
        headers.setdefault(lkey, []).append(_decode_header(value, hint, notes))

    def first(name: str) -> str:
        values = headers.get(name)
        return values[0] if values else ""

    senders = _addresses(raw_headers.get("from", []) or raw_headers.get("sender", []), hint, notes)
    from_name, from_addr = senders[0] if senders else ("", "")
    to = tuple(addr for _, addr in _addresses(raw_headers.get("to", []), hint, notes) if addr)
    texts: list[str] = []
    htmls: list[str] = []
    attachments: list[Attachment] = []
    used_names: set[str] = set()
    for part in _leaves(msg):
        for defect in part.defects:
            notes.add(type(defect).__name__)
        ctype = scrub(part.get_content_type())
        _, ct_params = _params(_header_value(part, "content-type"), hint, notes)
        disposition, cd_params = _params(_header_value(part, "content-disposition"), hint, notes)
        filename = (
            cd_params.get("filename")
            or ct_params.get("name")
            or cd_params.get("name")
            or ct_params.get("filename")
            or ""
        )
        if not filename and ctype.startswith("multipart/"):
            ctype = "text/plain"  # a multipart without a usable boundary: its raw text is the best we have
        body_part = ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename
        data = _part_bytes(part, notes)
        if body_part:
            charset = ct_params.get("charset") or None
            if charset is None and ctype == "text/html":
                meta = _META_CHARSET.search(data[:4096])
                charset = meta.group(1).decode("ascii") if meta else None
            text, note = decode_bytes(data, charset)
            notes.add(note, ctype)
            (texts if ctype == "text/plain" else htmls).append(text)
            continue
        has_cid = bool(_header_value(part, "content-id"))
        inline = disposition != "attachment" and (
            has_cid or (disposition == "inline" and part.get_content_maintype() == "image")
        )
        fallback = _FALLBACK_NAMES.get(ctype) or "attachment" + (mimetypes.guess_extension(ctype) or ".bin")
        safe = _unique(safe_filename(filename, fallback), used_names)
        attachments.append(Attachment(scrub(filename), safe, ctype, data, inline))
    html = "\n".join(htmls)
    text = "\n".join(texts) if texts else html_to_text(html) if html else ""
    return ParsedMail(
        message_id=next(iter(_ids(first("message-id"))), ""),
        from_addr=from_addr,
        from_name=from_name,
        to=to,
        subject=first("subject"),
        date=_parse_date(first("date")),
        in_reply_to=next(iter(_ids(first("in-reply-to"))), ""),
        references=_ids(" ".join(headers.get("references", []))),
        headers={key: tuple(values) for key, values in headers.items()},
        text=scrub(text),
        html=scrub(html),
        attachments=tuple(attachments),
        content_type=scrub(msg.get_content_type()),
        defects=tuple(notes.items),
    )


def _unique(name: str, used: set[str]) -> str:
    """`name`, or name-2.ext, name-3.ext … when an earlier attachment took it."""
    candidate = name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"
    used.add(candidate.lower())
    return candidate


def _scan(raw: bytes, note: str) -> ParsedMail:
    """Last resort after a parser crash: headers by a line scan, the rest of the bytes as text."""
    head, _, body = _split_head(raw)
    notes = _Notes()
    notes.add(note)
    headers: dict[str, list[str]] = {}
    for line in re.split(rb"\r\n|\r|\n", _FOLDING.sub(b"", head)):
        key, colon, value = line.partition(b":")
        if colon and key.strip():
            name = key.strip().decode("ascii", "replace").lower()
            headers.setdefault(name, []).append(_decode_header(value.strip(), None, notes))
    first = {k: v[0] for k, v in headers.items()}
    found = _ADDRESS.findall(first.get("from", ""))
    text, text_note = decode_bytes(body, None)
    notes.add(text_note, "body")
    return ParsedMail(
        message_id=next(iter(_ids(first.get("message-id", ""))), ""),
        from_addr=found[0].lower() if found else "",
        from_name="",
        to=tuple(a.lower() for a in _ADDRESS.findall(first.get("to", ""))),
        subject=first.get("subject", ""),
        date=_parse_date(first.get("date", "")),
        in_reply_to=next(iter(_ids(first.get("in-reply-to", ""))), ""),
        references=_ids(" ".join(headers.get("references", []))),
        headers={k: tuple(v) for k, v in headers.items()},
        text=text,
        html="",
        attachments=(),
        content_type="text/plain",
        defects=tuple(notes.items),
    )


def _split_head(raw: bytes) -> tuple[bytes, bytes, bytes]:
    match = re.search(rb"\r?\n\r?\n|\r\r", raw)
    if match is None:
        return raw, b"", b""
    return raw[: match.start()], b"", raw[match.end() :]


def _empty(note: str) -> ParsedMail:
    return ParsedMail("", "", "", (), "", None, "", (), {}, "", "", (), "text/plain", (note,))
