"""Document recognition and text extraction: docx, pdf, txt, rtf, doc; zip bombs; safe names."""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
from pathlib import Path

import docx
import pytest

from mailbot.core.errors import RefusedMail
from mailbot.core.mail.mime import Attachment, safe_filename
from mailbot.core.submission.documents import DocumentText, extract_text, is_document, is_picture

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mime"
LIMIT = 50_000_000


def att(name: str, data: bytes = b"", content_type: str = "application/octet-stream") -> Attachment:
    return Attachment(name, safe_filename(name), content_type, data)


def make_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("关于我区推进老旧小区改造的情况")
    document.add_paragraph("今年以来，我区共改造小区12个。")
    table = document.add_table(rows=2, cols=3)
    for row, cells in zip(table.rows, [("单位", "报送数", "采用数"), ("越秀区", "5", "2")], strict=True):
        for cell, text in zip(row.cells, cells, strict=True):
            cell.text = text
    document.add_paragraph("签发人：张三　报送人：李四　电话：020-83123456")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_and_tables_in_order() -> None:
    result = extract_text(att("报告.docx", make_docx()), max_bytes=LIMIT)
    assert result == DocumentText(
        "关于我区推进老旧小区改造的情况\n今年以来，我区共改造小区12个。\n"
        "单位\t报送数\t采用数\n越秀区\t5\t2\n签发人：张三　报送人：李四　电话：020-83123456",
        True,
        "",
    )


def test_docx_with_merged_cells_lists_each_cell_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "合并"
    table.cell(0, 2).text = "单独"
    out = io.BytesIO()
    document.save(out)
    assert extract_text(att("t.docx", out.getvalue()), max_bytes=LIMIT).text == "合并\t单独"


def rezip(source: bytes, replace: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            new.writestr(info.filename, replace.get(info.filename, old.read(info.filename)))
    return out.getvalue()


def test_zip_bomb_docx_is_refused_as_too_large() -> None:
    with zipfile.ZipFile(io.BytesIO(make_docx())) as z:
        xml = z.read("word/document.xml")
    padded = xml.replace(b"<w:body>", b"<w:body><!--" + b" " * 3_000_000 + b"-->", 1)
    bomb = rezip(make_docx(), {"word/document.xml": padded})
    assert len(bomb) < 100_000  # it is small on the wire …
    with pytest.raises(RefusedMail) as caught:
        extract_text(att("bomb.docx", bomb), max_bytes=1_000_000)  # … and inflates past the limit
    assert caught.value.rule == "too_large"
    assert "bomb.docx" in caught.value.detail


def test_zip_bomb_is_refused_before_anything_is_inflated() -> None:
    """The central directory claims 3 GB; inflating would hit a CRC error instead of the refusal."""
    data = bytearray(make_docx())
    pos = data.rfind(b"word/document.xml")
    header = data.rfind(b"PK\x01\x02", 0, pos)  # central directory entry of document.xml
    struct.pack_into("<I", data, header + 24, 3_000_000_000)  # uncompressed size
    with pytest.raises(RefusedMail) as caught:
        extract_text(att("lie.docx", bytes(data)), max_bytes=LIMIT)
    assert caught.value.rule == "too_large"


def test_file_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(RefusedMail) as caught:
        extract_text(att("big.txt", b"x" * 2000), max_bytes=1000)
    assert caught.value.rule == "too_large"


def minimal_pdf() -> bytes:
    """One page: an ASCII line in Helvetica and a Chinese line in the non-embedded STSong-Light CID font."""
    chinese = "政务信息报送".encode("utf-16-be").hex().encode()
    content = b"BT /F1 12 Tf 72 720 Td (Hello PDF world) Tj 0 -20 Td /F2 12 Tf <" + chinese + b"> Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [7 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 8 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_pdf_text() -> None:
    result = extract_text(att("报告.pdf", minimal_pdf()), max_bytes=LIMIT)
    assert result == DocumentText("Hello PDF world\n政务信息报送", True, "")


def test_broken_pdf_is_not_extracted_but_accepted() -> None:
    result = extract_text(att("坏.pdf", b"%PDF-1.4\nnot really"), max_bytes=LIMIT)
    assert not result.extracted and result.text == ""
    assert result.note.startswith("未能提取正文（")


def test_gbk_txt() -> None:
    text = "关于防汛工作的报告\n签发人：张三"
    assert extract_text(att("a.txt", text.encode("gbk")), max_bytes=LIMIT) == DocumentText(text, True, "")
    assert extract_text(att("b.txt", text.encode("utf-8")), max_bytes=LIMIT).text == text


RTF = (
    rb"{\rtf1\ansi\ansicpg936\deff0{\fonttbl{\f0\fnil\fcharset134 SimSun;}}"
    rb"\f0 \'d5\'fe\'ce\'f1\'d0\'c5\'cf\'a2\par "
    rb"\u31614?\u21457?\u20154?\'a3\'ba\'d5\'c5\'c8\'fd}"
)


def test_rtf_with_gbk_escapes() -> None:
    pytest.importorskip(
        "striprtf", reason="striprtf reads \\ansicpg936; catdoc turns GBK escapes into latin-1"
    )
    result = extract_text(att("信息.rtf", RTF), max_bytes=LIMIT)
    assert result == DocumentText("政务信息\n签发人：张三", True, "")


@pytest.mark.skipif(shutil.which("catdoc") is None, reason="catdoc is not installed")
def test_doc_via_catdoc() -> None:
    data = (FIXTURES / "standardized_text.doc").read_bytes()
    result = extract_text(att("报告.doc", data), max_bytes=LIMIT)
    assert result == DocumentText("the quick brown fox jumps over the lazy dog", True, "")
    # A .wps is the same binary format.
    assert extract_text(att("报告.wps", data), max_bytes=LIMIT).text == result.text


def test_doc_that_is_really_docx_or_html() -> None:
    assert "老旧小区" in extract_text(att("旧名.doc", make_docx()), max_bytes=LIMIT).text
    html = "<html><body><p>网页格式</p><p>保存的文档</p></body></html>".encode()
    assert extract_text(att("网页.doc", html), max_bytes=LIMIT).text == "网页格式\n\n保存的文档"


def test_missing_catdoc_gives_a_note(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mailbot.core.submission.documents.CATDOC", "no-such-catdoc-program")
    data = (FIXTURES / "standardized_text.doc").read_bytes()
    result = extract_text(att("报告.doc", data), max_bytes=LIMIT)
    assert not result.extracted and "catdoc" in result.note and result.note.startswith("未能提取正文（")


def test_garbage_doc_gives_a_note_not_an_exception() -> None:
    result = extract_text(att("坏.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600), max_bytes=LIMIT)
    assert not result.extracted and result.note.startswith("未能提取正文（")


@pytest.mark.parametrize(
    ("name", "content_type", "document", "picture"),
    [
        ("报告.docx", "application/octet-stream", True, False),
        ("报告.DOC", "application/octet-stream", True, False),
        ("报告.wps", "application/octet-stream", True, False),
        ("报告.pdf", "application/pdf", True, False),
        ("说明.TXT", "text/plain", True, False),
        ("报告.rtf", "application/rtf", True, False),
        ("报表.xls", "application/vnd.ms-excel", False, False),
        ("照片.JPG", "image/jpeg", False, True),
        ("", "image/png", False, True),
        ("", "application/pdf", True, False),  # no name: the content type decides
        ("", "application/msword", True, False),
        ("报送信息2026.11.3", "application/msword", True, False),  # a dot is not an extension
        ("", "message/rfc822", False, False),
        ("", "message/delivery-status", False, False),
        ("winmail.dat", "application/ms-tnef", False, False),
    ],
)
def test_is_document(name: str, content_type: str, document: bool, picture: bool) -> None:
    a = att(name, content_type=content_type)
    assert is_document(a) is document
    assert is_picture(a) is picture


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "cmd.exe"),
        ("/var/mail/报告.docx", "报告.docx"),
        ("C:\\Users\\a\\报告.doc", "报告.doc"),
        ("C:报告.doc", "C_报告.doc"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("com1.tar.gz", "_com1.tar.gz"),
        ("LPT9 .doc", "_LPT9 .doc"),
        ("..", "attachment.bin"),
        (".", "attachment.bin"),
        ("", "attachment.bin"),
        ("   ", "attachment.bin"),
        (".hidden", "hidden"),
        ("报告.docx. . ", "报告.docx"),
        ("a\x00b\x1fc\x7f.pdf", "ab_c_.pdf"),  # NUL dropped, controls replaced
        ('a<b>c:d|e?f*g"h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("invoice\u202excod.exe", "invoicexcod.exe"),  # right-to-left override removed
        ("bad\udcff.doc", "bad\ufffd.doc"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    assert safe_filename(name) == safe


@pytest.mark.parametrize("name", ["报" * 300 + ".docx", "a" * 400 + ".pdf", "x" * 400])
def test_long_names_keep_their_extension(name: str) -> None:
    safe = safe_filename(name)
    assert len(safe) <= 150 and len(safe.encode()) <= 240
    assert safe.endswith(name[-5:] if "." in name else "x")
