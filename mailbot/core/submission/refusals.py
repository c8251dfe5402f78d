"""The acceptance rules of SPEC §2.2 as data: each rule's Chinese name, explanation and fix.

A refusal reply is built from one of these entries plus what the mail had,
so every refused officer reads which rule, what was seen and a correct example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.core.submission.subject import strip_prefixes

EXAMPLE_SUBJECT = "标题：关于我区推进老旧小区改造的情况；单位：{unit}；签发人：张三；报送人：李四；电话：020-83123456；日期：{date}"
EXAMPLE_POSITIONAL = "关于我区推进老旧小区改造的情况｜{unit}｜张三｜李四｜020-83123456｜{date}"
# Where a rule's advice names the office that registers officers (config office.short_name).
OFFICE = "{office}"


@dataclass(frozen=True, slots=True)
class Rule:
    """One acceptance rule."""

    id: str
    name: str  # Chinese, shown in replies and lists
    fix: str  # what the officer should do, in Chinese; OFFICE stands for the registering office
    reply: bool = True  # False: never answered (spam, bounces …)

    def advice(self, office: str) -> str:
        """`fix` as the officer reads it, naming `office` (config office.short_name) where it says OFFICE."""
        return self.fix.replace(OFFICE, office)


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(
            "unknown_sender",
            "发件人未登记",
            f"请使用已在{OFFICE}登记备案的信息员邮箱报送；如需登记或更换信息员，请联系信息科。",
        ),
        Rule(
            "wrong_unit",
            "发件人不是所填单位的信息员",
            "请在主题中填写本单位名称，或由所填单位登记的信息员邮箱报送。",
        ),
        Rule(
            "unknown_unit",
            "单位名称无法识别",
            "请填写单位全称、简称或登记的别称，例如“越秀区政府”“市发改委”。",
        ),
        Rule(
            "missing_fields",
            "缺少必填要素",
            "主题（或正文落款）须注明标题、单位、签发人、报送人、电话等要素。",
        ),
        Rule(
            "too_many_documents",
            "一封邮件只能报送1条信息",
            "请每封邮件只附1个文档（.docx/.doc/.wps/.pdf/.txt/.rtf），多条信息请分多封邮件报送；图片不受此限。",
        ),
        Rule("too_large", "邮件超过大小限制", "请压缩图片或删去不必要的附件后重新报送。"),
        Rule(
            "classified",
            "含有涉密标识",
            "涉密信息严禁通过互联网邮件报送，请按保密规定通过纸质或机要渠道报送。本邮件内容未转发任何人。",
        ),
        Rule("empty", "邮件没有信息正文", "请在正文中写明信息内容，或以附件形式附上文档。"),
        Rule("unparseable", "邮件无法解析", "请用常用邮件客户端重新发送，正文使用简体或繁体中文均可。"),
        Rule(
            "bad_correction",
            "更正的信息编号不属于本单位",
            "【更正#编号】只能更正本单位此前报送的信息，请核对回执中的编号。",
        ),
        Rule("not_reviewer", "非审核人回复", "审核决定只能由信息科登记的审核人作出。", reply=True),
    )
}


def example_subject(unit: str, date: str) -> str:
    """A correct labelled subject for `unit` on `date`, shown in every refusal."""
    return EXAMPLE_SUBJECT.format(unit=unit, date=date)


def example_positional(unit: str, date: str) -> str:
    """A correct positional subject."""
    return EXAMPLE_POSITIONAL.format(unit=unit, date=date)


def refusal_subject(rule_name: str, subject: str) -> str:
    """The subject of a refusal reply: [未能登记] <rule name>：<the refused subject>."""
    return f"[未能登记] {rule_name}：{subject}"[:200]


# What `refusal_subject` puts before the refused subject, for any rule.
_REFUSAL_PREFIX = re.compile(
    r"^\s*[\[【]\s*未能登记\s*[\]】]\s*(?:"
    + "|".join(re.escape(r.name) for r in RULES.values())
    + r")\s*[：:]\s*"
)


def strip_refusal_prefix(subject: str) -> str:
    """The refused subject inside "回复：[未能登记] 规则：…" (an officer resending by replying), else `subject`."""
    rest = strip_prefixes(subject)
    m = _REFUSAL_PREFIX.match(rest)
    return rest[m.end() :] if m else subject
