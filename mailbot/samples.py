"""Realistic sample mails: submissions as officers' clients send them, and reviewers' replies.

Used by `mailbot demo`, by the tests and by bench/. Mails are built as raw
bytes the way real clients build them (GBK with base64, UTF-8 quoted-printable,
a .docx attachment), not through mailbot's own composer.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

BODY = (
    "{unit}扎实推进{topic}工作\n\n"
    "今年以来，{unit}坚持以人民为中心，围绕{topic}这一重点任务，建立“一周一调度、一月一通报”工作机制，"
    "累计投入资金{money}万元，完成项目{count}个，惠及群众{people}余人。一是强化统筹协调，成立工作专班，"
    "细化任务清单；二是突出问题导向，逐项梳理群众反映集中的难点堵点；三是坚持长效管理，"
    "将{topic}纳入年度绩效考核。下一步，{unit}将持续巩固工作成效，推动{topic}工作走深走实。\n"
)
TOPICS = (
    "老旧小区改造", "营商环境优化", "垃圾分类", "河长制", "安全生产大检查", "乡村振兴", "政务服务“一网通办”",
    "稳就业保民生", "消防安全隐患整治", "食品安全监管", "城市更新", "防汛防风", "招商引资", "义务教育“双减”",
)


def docx_bytes(paragraphs: Sequence[str]) -> bytes:
    """A real .docx holding the paragraphs (python-docx)."""
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


def submission(
    *,
    sender: str,
    subject: str,
    body: str,
    date: dt.datetime,
    charset: str = "utf-8",
    to: str = "inbox@example.org",
    sender_name: str = "",
    attachments: Sequence[tuple[str, str, bytes]] = (),
    message_id: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    mailer: str = "Foxmail 7.2.25.228[cn]",
) -> bytes:
    """A submission as a typical Chinese client sends it: encoded subject, body in `charset`."""
    msg = EmailMessage()
    name = str(Header(sender_name, charset)) if sender_name else ""
    msg["From"] = f"{name} <{sender}>" if name else sender
    msg["To"] = to
    # Legacy clients send GBK/Big5 encoded-words; the default policy wants them on one logical line.
    msg["Subject"] = Header(subject, charset).encode().replace("\n", "") if charset != "utf-8" else subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or make_msgid(domain=sender.split("@")[-1])
    msg["X-Mailer"] = mailer
    for k, v in headers:
        msg[k] = v
    cte = "base64" if charset.lower() in {"gbk", "gb2312", "gb18030", "big5"} else "quoted-printable"
    msg.set_content(body, charset=charset, cte=cte)
    for filename, ctype, data in attachments:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes(policy=SMTP)


def labelled_subject(title: str, unit: str, signer: str, reporter: str, phone: str, date: str = "") -> str:
    """标题：…；单位：…；签发人：…；报送人：…；电话：…[；日期：…]."""
    s = f"标题：{title}；单位：{unit}；签发人：{signer}；报送人：{reporter}；电话：{phone}"
    return s + (f"；日期：{date}" if date else "")


def positional_subject(title: str, unit: str, signer: str, reporter: str, phone: str, date: str = "") -> str:
    """标题｜单位｜签发人｜报送人｜电话[｜日期]."""
    return "｜".join([title, unit, signer, reporter, phone] + ([date] if date else []))


def reply(
    *,
    sender: str,
    to_message: bytes,
    command: str,
    date: dt.datetime,
    charset: str = "utf-8",
    quote_style: str = "qq",
) -> bytes:
    """A reviewer's reply to a mail mailbot sent: the command on top, the original quoted below."""
    import email
    from email.policy import default

    orig = email.message_from_bytes(to_message, policy=default)
    body_part = orig.get_body(("plain",))
    quoted = body_part.get_content() if body_part is not None else ""
    if quote_style == "gt":
        quote = "\n".join("> " + line for line in quoted.splitlines())
        body = f"{command}\n\n在 {date:%Y年%m月%d日} {date:%H:%M}，政务信息报送 写道：\n{quote}\n"
    else:
        body = (
            f"{command}\n\n------------------ 原始邮件 ------------------\n"
            f"发件人: \"政务信息报送\" <{orig['From']}>\n发送时间: {orig['Date']}\n主题: {orig['Subject']}\n\n{quoted}\n"
        )
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = str(orig["From"])
    msg["Subject"] = f"回复：{orig['Subject']}"
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = make_msgid(domain=sender.split("@")[-1])
    msg["In-Reply-To"] = str(orig["Message-ID"])
    msg["References"] = str(orig["Message-ID"])
    msg["X-Mailer"] = "QQMail 2.x"
    cte = "base64" if charset.lower() in {"gbk", "gb2312", "gb18030", "big5"} else "quoted-printable"
    msg.set_content(body, charset=charset, cte=cte)
    return msg.as_bytes(policy=SMTP)
