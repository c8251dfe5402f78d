"""The submission's document: which attachments are documents, and their text.

An item's text may come as one attached document (SPEC §2). Its text is read
for the 落款, the classified-marks check and the reviewers. A document that
cannot be read is still accepted (the reviewers open the file), so every
failure here becomes `extracted=False` with a Chinese note, never an exception;
the one exception is a document that would inflate beyond the size limit
(a zip bomb), which is refused as too large. Old binary Word/WPS files are read
by the `catdoc` program: that subprocess is this module's only I/O.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from mailbot.core.errors import RefusedMail
from mailbot.core.mail.charsets import decode_bytes, scrub
from mailbot.core.mail.mime import Attachment, html_to_text

if TYPE_CHECKING:
    from docx.table import Table

log = logging.getLogger(__name__)

DOCUMENT_EXTENSIONS = frozenset({".docx", ".doc", ".wps", ".pdf", ".txt", ".rtf"})
PICTURE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".heic", ".heif"}
)

# Content types by which a document without an extension is recognised.
_DOCUMENT_TYPES: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "application/vnd.ms-word": ".doc",
    "application/vnd.ms-works": ".wps",
    "application/kswps": ".wps",
    "application/wps-office.wps": ".wps",
    "application/vnd.wps-office.wps": ".wps",
    "application/pdf": ".pdf",
    "application/x-pdf": ".pdf",
    "text/plain": ".txt",
    "application/rtf": ".rtf",
    "text/rtf": ".rtf",
}
CATDOC = "catdoc"
CATDOC_TIMEOUT = 30.0  # seconds; a legitimate .doc converts in well under one


@dataclass(frozen=True, slots=True)
class DocumentText:
    """The text of a document; `note` says why it is missing or partial ('' when all is well)."""

    text: str
    extracted: bool
    note: str


def extension(att: Attachment) -> str:
    """The document kind of an attachment: its lower-case extension, else one implied by its content type."""
    suffix = PurePosixPath(att.filename.replace("\\", "/")).suffix.lower().strip() if att.filename else ""
    # "报送信息2026.11.3" has no extension, only a dot.
    if re.fullmatch(r"\.[a-z][a-z0-9]{0,5}", suffix):
        return suffix
    return _DOCUMENT_TYPES.get(att.content_type, "")


def is_document(att: Attachment) -> bool:
    """True when the attachment is a document (.docx .doc .wps .pdf .txt .rtf), by name or content type."""
    return extension(att) in DOCUMENT_EXTENSIONS


def is_picture(att: Attachment) -> bool:
    """True when the attachment is a picture (they never count as a second document)."""
    return extension(att) in PICTURE_EXTENSIONS or (
        att.content_type.startswith("image/") and not extension(att)
    )


def extract_text(att: Attachment, *, max_bytes: int) -> DocumentText:
    """The text of a document attachment.

    Raises RefusedMail(rule="too_large") when the file or its inflated content
    exceeds `max_bytes`; every other problem gives extracted=False and a note.
    """
    name = att.filename or att.safe_name
    if len(att.data) > max_bytes:
        raise _too_large(name, len(att.data), max_bytes)
    kind = _sniff(att.data) or extension(att)
    try:
        if kind == ".docx":
            text = _docx_text(att.data, name, max_bytes)
        elif kind == ".pdf":
            text = _pdf_text(att.data)
        elif kind == ".txt":
            text, note = decode_bytes(att.data, None)
            return DocumentText(
                text, True, "文本编码有误，部分字符无法识别" if note and "U+FFFD" in note else ""
            )
        elif kind == ".rtf":
            text = _rtf_text(att.data)
        elif kind in (".doc", ".wps"):
            return run_catdoc(att.data)
        elif kind == ".html":
            text = html_to_text(decode_bytes(att.data, None)[0])
        else:
            return DocumentText("", False, f"未能提取正文（不支持的文档类型：{kind or att.content_type}）")
    except RefusedMail:
        raise
    except Exception as exc:  # broken files are common: the reviewers still get the file
        log.info("cannot read %s as %s: %r", name, kind, exc)
        return DocumentText(
            "", False, f"未能提取正文（{kind.lstrip('.')} 文件无法读取：{type(exc).__name__}）"
        )
    text = scrub(text).strip()
    if len(text.encode()) > max_bytes:
        raise _too_large(name, len(text.encode()), max_bytes)
    if not text:
        return DocumentText("", False, "未能提取正文（文档中没有可识别的文字，可能是扫描件）")
    return DocumentText(text, True, "")


def _too_large(name: str, size: int, limit: int) -> RefusedMail:
    return RefusedMail(
        "too_large",
        # .3g: a 500 KB limit reads "0.5 MB", not "0 MB"; the default reads "50 MB".
        f"附件《{name}》解开后约 {size / 1e6:.1f} MB，超过上限 {limit / 1e6:.3g} MB。",
        seen=f"{name}: {size} bytes",
    )


def _sniff(data: bytes) -> str:
    """The real kind of a file whose name may lie (a .doc that is really RTF or .docx)."""
    head = data[:8]
    if head.startswith(b"%PDF"):
        return ".pdf"
    if head.startswith(b"{\\rtf"):
        return ".rtf"
    if head.startswith(b"PK\x03\x04"):
        return ".docx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return ".doc"
    if re.match(rb"\s*<(?:!doctype html|html)", data[:512], re.IGNORECASE):
        return ".html"  # Word's "save as web page" kept the .doc name
    return ""


def _docx_text(data: bytes, name: str, max_bytes: int) -> str:
    """Paragraphs and table rows in document order; the zip's declared sizes are checked first.

    zipfile never inflates a member beyond its declared size, so checking the
    central directory is enough to stop a zip bomb before anything is inflated.
    """
    # python-docx and pypdf take ~150 ms to import: only when a document arrives.
    import docx
    from docx.table import Table

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        total = sum(info.file_size for info in archive.infolist())
    if total > max_bytes:
        raise _too_large(name, total, max_bytes)
    document = docx.Document(io.BytesIO(data))
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_lines(block))
        else:
            lines.append(block.text)
    return "\n".join(lines)


def _table_lines(table: Table) -> list[str]:
    """One line per row, cells separated by a tab; merged cells once."""
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(cell.text.strip())
        lines.append("\t".join(cells))
    return lines


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader  # ~100 ms to import: only when a PDF arrives

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")  # most "encrypted" PDFs only restrict printing; raises if a password is needed
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def _rtf_text(data: bytes) -> str:
    """RTF via striprtf, which honours \\ansicpg (GBK escapes); catdoc when striprtf is missing."""
    try:
        from striprtf.striprtf import rtf_to_text  # optional: catdoc reads RTF when it is missing
    except ImportError:
        result = run_catdoc(data)
        if not result.extracted:
            raise ValueError(result.note) from None
        return result.text
    # RTF is 7-bit; raw 8-bit bytes are undeclared text, decoded like any other.
    source, _ = decode_bytes(data, None)
    return str(rtf_to_text(source, errors="replace"))


def run_catdoc(data: bytes) -> DocumentText:
    """Text of a binary Word/WPS document via catdoc (UTF-8 output, time-limited)."""
    program = shutil.which(CATDOC)
    if program is None:
        return DocumentText("", False, "未能提取正文（服务器未安装 catdoc，无法读取 .doc/.wps 文档）")
    try:
        done = subprocess.run(
            [program, "-d", "utf-8", "-w"],
            input=data,
            capture_output=True,
            timeout=CATDOC_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return DocumentText("", False, f"未能提取正文（catdoc 超过 {CATDOC_TIMEOUT:.0f} 秒未完成）")
    except OSError as exc:
        return DocumentText("", False, f"未能提取正文（无法运行 catdoc：{exc.strerror or exc}）")
    text, _ = decode_bytes(done.stdout, "utf-8")
    text = text.replace("\x0c", "\n").strip()
    if done.returncode != 0 or not text:
        reason = scrub(done.stderr.decode("utf-8", "replace")).strip()[:200] or f"退出码 {done.returncode}"
        return DocumentText("", False, f"未能提取正文（catdoc：{reason}）")
    return DocumentText(text, True, "")
