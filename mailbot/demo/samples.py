"""Realistic sample mails: submissions as officers' clients send them, and reviewers' replies.

Used by `mailbot demo`, by the tests and by bench/. Mails are built as raw
bytes the way real clients build them (GBK with base64, UTF-8 quoted-printable,
a .docx attachment), not through mailbot's own composer.
"""

from __future__ import annotations

import datetime as dt
import io
import random
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
SENTENCES = (
    "建立“一周一调度、一月一通报”工作机制，明确责任单位和完成时限",
    "累计投入资金{money}万元，完成项目{count}个，惠及群众{people}余人",
    "成立由主要领导任组长的工作专班，细化任务清单，实行挂图作战",
    "聚焦群众反映集中的难点堵点，逐项建立问题台账，做到立行立改",
    "组织开展专项督查{count}次，发现并整改问题{count}个",
    "推行“首问负责、限时办结”制度，办事时限平均压缩{count}%",
    "引入第三方机构开展满意度测评，群众满意率达{count}%",
    "整合部门数据资源，打通信息壁垒，实现{count}类事项“一次办好”",
    "选派{count}名业务骨干下沉基层，面对面解决实际问题",
    "将相关工作纳入年度绩效考核，对推进不力的单位进行约谈",
    "深入{count}个社区开展走访调研，收集意见建议{people}条",
    "与{count}家企业签订合作协议，带动社会投资{money}万元",
    "开展应急演练{count}场，参与人员{people}人次",
    "制定出台配套政策文件{count}份，形成制度化、长效化管理机制",
    "利用微信公众号、短视频等渠道广泛宣传，阅读量超过{people}次",
    "对排查发现的隐患实行清单化管理，已整改销号{count}项",
    "设立专项资金{money}万元，重点支持薄弱环节建设",
    "建立“街道吹哨、部门报到”联动机制，协调解决问题{count}个",
    "下一步将持续巩固工作成效，推动各项措施落地见效",
    "存在的主要问题是基层力量相对薄弱，部分项目进度滞后",
)
TOPICS = (
    "老旧小区改造",
    "营商环境优化",
    "垃圾分类",
    "河长制",
    "安全生产大检查",
    "乡村振兴",
    "政务服务“一网通办”",
    "稳就业保民生",
    "消防安全隐患整治",
    "食品安全监管",
    "城市更新",
    "防汛防风",
    "招商引资",
    "义务教育“双减”",
)


def body_text(unit: str, topic: str, rng: random.Random) -> str:
    """A plausible 政务信息 body: a lead sentence plus five sentences drawn from a pool."""
    nums = {"money": rng.randint(50, 3000), "count": rng.randint(3, 95), "people": rng.randint(1000, 90000)}
    picked = rng.sample(SENTENCES, 5)
    lead = f"近期，{unit}围绕{topic}重点任务，多措并举推动工作落实。"
    return (
        lead
        + "".join(f"{'一二三四五'[i]}是{p.format(**nums)}；" for i, p in enumerate(picked)).rstrip("；")
        + "。\n"
    )


def docx_bytes(paragraphs: Sequence[str]) -> bytes:
    """A real .docx holding the paragraphs (python-docx)."""
    import docx  # python-docx takes ~150 ms to import: only samples that carry a document need it

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
    # The modern email policy costs start-up time the other samples do not need.
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
            f'发件人: "政务信息报送" <{orig["From"]}>\n发送时间: {orig["Date"]}\n主题: {orig["Subject"]}\n\n{quoted}\n'
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
