"""Building the mails mailbot sends from the jinja2 templates in templates/.

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
