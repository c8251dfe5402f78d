"""The one place that renders templates (mailbot/templates/): the mails mailbot sends and the bulletin.

Every mail gets an HTML part and a plain-text alternative, our signed
Message-ID, threading headers and Auto-Submitted, and no header value can
carry a CR or LF (titles come from strangers).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from mailbot.core.bulletin.content import BulletinData, build_context, own_line

TEMPLATES = Path(os.environ.get("MAILBOT_TEMPLATES", Path(__file__).resolve().parent.parent / "templates"))


def _env(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["cn_datetime"] = lambda d: d.strftime("%Y年%m月%d日 %H:%M") if d else ""
    env.filters["cn_date"] = lambda d: f"{d.year}年{d.month}月{d.day}日" if d else ""
    env.filters["points"] = lambda p: f"{float(p):g}" if p is not None else "—"
    return env


# One environment pair for every template: mails and the bulletin share filters and strictness.
_TEXT = _env(autoescape=False)
_HTML = _env(autoescape=True)


def render(name: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """Render templates/mail/NAME.txt.j2 and NAME.html.j2 (HTML escapes every value)."""
    text = _TEXT.get_template(f"mail/{name}.txt.j2").render(**context)
    html = _HTML.get_template(f"mail/{name}.html.j2").render(**context)
    return text, html


def header_safe(value: str) -> str:
    """A header value with CR, LF and other control characters replaced by spaces."""
    return "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in value).strip()


def _encoded(value: str) -> str | Header:
    """A header value, as RFC 2047 encoded-words (folded by the generator) when not plain ASCII."""
    value = header_safe(value)
    return value if value.isascii() else Header(value, "utf-8", header_name="Subject")


def _address(value: str) -> str:
    name, addr = parseaddr(header_safe(value))
    if not name:
        return addr or header_safe(value)
    return formataddr((name, addr), charset="utf-8")


def build(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    now: dt.datetime,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    auto: str = "auto-replied",
    attachments: Sequence[tuple[str, str, bytes]] = (),
) -> Message:
    """A MIME message with our standard headers; attachments are (filename, content type, bytes).

    Built with the compat32 MIME classes: several times faster than EmailMessage's
    default policy, which matters for a backlog of thousands of receipts.
    """
    body: Message = MIMEText(text, "plain", "utf-8")
    if html is not None:
        alt = MIMEMultipart("alternative")
        alt.attach(body)
        alt.attach(MIMEText(html, "html", "utf-8"))
        body = alt
    if attachments:
        mixed = MIMEMultipart("mixed")
        mixed.attach(body)
        for filename, ctype, data in attachments:
            maintype, _, subtype = ctype.partition("/")
            part = MIMEBase(maintype or "application", subtype or "octet-stream")
            part.set_payload(data)
            encoders.encode_base64(part)
            part.add_header(
                "Content-Disposition", "attachment", filename=("utf-8", "", header_safe(filename))
            )
            mixed.attach(part)
        body = mixed
    msg = body
    msg["From"] = _address(sender)
    msg["To"] = ", ".join(_address(a) for a in to)
    msg["Subject"] = _encoded(subject)  # type: ignore[assignment]
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{header_safe(message_id)}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{header_safe(in_reply_to)}>"
    refs = [r for r in references if r]
    if in_reply_to and in_reply_to not in refs:
        refs.append(in_reply_to)
    if refs:
        msg["References"] = " ".join(f"<{header_safe(r)}>" for r in refs[-10:])
    msg["Auto-Submitted"] = auto
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Precedence"] = "bulk" if auto == "auto-generated" else "auto_reply"
    return msg


# ---------------------------------------------------------------- the bulletin


def render_html(data: BulletinData, *, unit_id: str | None = None) -> str:
    """The bulletin as email-safe HTML (inline styles, tables); `unit_id`'s copy opens with its own line."""
    return _HTML.get_template("bulletin/bulletin.html.j2").render(build_context(data, unit_id=unit_id))


def render_text(data: BulletinData, *, unit_id: str | None = None) -> str:
    """The bulletin as aligned plain text (the mail's text alternative)."""
    return _TEXT.get_template("bulletin/bulletin.txt.j2").render(build_context(data, unit_id=unit_id))


_MARK = "\ue000本单位情况\ue001"  # private-use characters: no title, name or template can contain them


class Copies:
    """Every unit's copy of one bulletin: rendered once, then personalised by substitution.

    A unit's copy differs from the plain bulletin only in its own line at the top and its
    highlighted row; rendering the whole bulletin per unit is quadratic in the units (a
    province's 3,000 copies of a 3,000-row bulletin). Each copy equals `render_html` /
    `render_text` with that `unit_id` (tests/test_bulletin.py compares all of them).
    """

    def __init__(self, data: BulletinData) -> None:
        context = build_context(data)
        context["own_line"] = _MARK
        self._data = data
        self._html = _HTML.get_template("bulletin/bulletin.html.j2").render(context)
        self._text = _TEXT.get_template("bulletin/bulletin.txt.j2").render(context)
        self._row_open = _HTML.get_template("bulletin/_row.html.j2").module.row_open  # type: ignore[attr-defined]
        # Where each unit's row stands in its table decides its plain (striped) opening tag.
        self._even = {row.unit_id: i % 2 == 0 for s in context["series"] for i, row in enumerate(s.rows, 1)}

    def text(self, unit_id: str) -> str:
        """`render_text(data, unit_id=unit_id)`."""
        return self._text.replace(_MARK, own_line(self._data, unit_id), 1)

    def html(self, unit_id: str) -> str:
        """`render_html(data, unit_id=unit_id)`."""
        own = str(markupsafe.escape(own_line(self._data, unit_id)))
        html = self._html.replace(_MARK, own, 1)
        if unit_id not in self._even:
            return html
        plain = str(self._row_open(unit_id, False, self._even[unit_id]))
        if html.count(plain) != 1:  # a row tag that is not unique cannot be swapped safely
            return render_html(self._data, unit_id=unit_id)
        return html.replace(plain, str(self._row_open(unit_id, True, False)), 1)
