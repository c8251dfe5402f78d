"""Every mail mailbot sends (core/letters): each kind renders, and a reply to it is recognised as ours.

Pure: plain values in, letters out, rendered through the one template environment; no database,
no server. A kind added to REGISTRY without a sample here fails the first test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

import pytest
from markupsafe import escape

from mailbot.core import letters
from mailbot.core.bulletin.content import bulletin_title
from mailbot.core.errors import QuarantinedMail, RefusedMail
from mailbot.core.letters import ItemFacts, Letter, Priority, YuegaoRef
from mailbot.core.mail import msgid
from mailbot.core.review import ledger
from mailbot.core.review.decisions import Adopt, Reject
from mailbot.core.submission.refusals import RULES, strip_refusal_prefix
from mailbot.core.submission.subject import Fields, find_item_ref, parse_subject, strip_yuegao_wording
from mailbot.core.submission.units import Unit
from mailbot.shell import compose
from tests.fixtures.bulletin.sample import build_sample

TZ = dt.timezone(dt.timedelta(hours=8))
AT = dt.datetime(2026, 11, 3, 9, 30, tzinfo=TZ)
REVIEWER = "editor@example.org"
OFFICER = "qx01@gz.example.org"
THEIR_SUBJECT = (
    "标题：越秀区推进老旧小区改造；单位：越秀区政府；签发人：张三；报送人：李四；电话：020-83123456"
)
ITEM = ItemFacts(
    id="2026-0007",
    title="越秀区推进老旧小区改造惠及3万居民",
    unit_name="越秀区政府",
    from_addr=OFFICER,
    message_id="sub-7@gz.example.org",
    reporter="李四",
    signer="张三",
    phone="020-83123456",
    written_date=dt.date(2026, 11, 3),
    urgent=True,
    correction_of="2026-0003",
    text="正文。",
    cover_note="请审阅。",
    text_note="",
    flags=("紧急", "雷同", "约稿超时"),
    similar_to="2026-0002",
    similarity=0.72,
)
UNIT = Unit(id="QX01", name="越秀区政府", series="区县", short="越秀区", officers=(OFFICER,))
YUEGAO = YuegaoRef(3, "四季度经济运行分析", dt.date(2026, 11, 15))


@dataclass(frozen=True)
class Sample:
    """One letter of a kind, and what a reply to it must be read back as."""

    letter: Letter
    item_id: str | None = None  # the item its subject names
    refused: str | None = None  # the refused subject inside a refusal's subject
    yuegao: int | None = None  # the 约稿 its subject names
    title: str | None = None  # the 约稿's title, read back without our wording around it


@cache
def bulletin() -> Sample:
    data = build_sample("2026-10").data
    unit = data.rows[0].unit_id
    return Sample(letters.bulletin_copy(data, unit_id=unit, to=f"{unit.lower()}@gz.example.org", xlsx=b"PK"))


def _refusal(error: RefusedMail) -> Letter:
    return letters.refusal(
        rule=RULES[error.rule],
        error=error,
        to=OFFICER,
        subject=THEIR_SUBJECT,
        message_id="sub-9@gz.example.org",
        references=("older@gz.example.org",),
        received_at=AT,
        sha256="ab" * 32,
        unit="荔湾区政府",
        short_office="某市政府办公厅",
    )


def _earlier() -> list[ledger.Event]:
    return [ledger.Event("2026-0003", 4, AT, REVIEWER, Adopt("穗府信息", "标题"))]


SAMPLES: dict[str, Callable[[], Sample]] = {
    "receipt": lambda: Sample(
        letters.receipt(
            ITEM, fields=Fields(title=ITEM.title, unit="越秀区政府"), received_at=AT, document="a.docx"
        ),
        item_id=ITEM.id,
    ),
    "refusal": lambda: Sample(
        _refusal(RefusedMail("missing_fields", "缺少签发人。", seen="签发人")), refused=THEIR_SUBJECT
    ),
    "notice": lambda: Sample(
        letters.officer_notice(
            ITEM,
            event_id=12,
            status="adopted",
            previous="pending",
            changes=["新增：《穗府信息》采用（标题） +6分"],
            where=["《穗府信息》采用（标题）"],
            reason="",
            points=Decimal(6),
            previous_points=None,
        ),
        item_id=ITEM.id,
    ),
    "review": lambda: Sample(
        letters.review_request(
            ITEM,
            to=REVIEWER,
            received_at=AT,
            files=[("a.docx", "application/octet-stream", b"x")],
            earlier=_earlier(),
            yuegao=YUEGAO,
        ),
        item_id=ITEM.id,
    ),
    "alert": lambda: Sample(
        letters.urgent_alert(ITEM, to="duty@example.org", received_at=AT), item_id=ITEM.id
    ),
    "confirm": lambda: Sample(
        letters.confirmation(
            ITEM,
            decisions=[Reject("重复")],
            status="rejected",
            points=None,
            to=REVIEWER,
            in_reply_to="r-1@example.org",
            key="cd" * 32,
        ),
        item_id=ITEM.id,
    ),
    "reply-error": lambda: Sample(
        letters.reply_error(
            detail="未能执行您的回复：无法识别。",
            to=REVIEWER,
            subject=f"回复：[待审#{ITEM.id}] {ITEM.title}",
            in_reply_to="r-2@example.org",
            item_id=ITEM.id,
            sha256="ef" * 32,
        ),
        item_id=ITEM.id,
    ),
    "help": lambda: Sample(
        letters.reply_help(
            to=REVIEWER,
            subject=f"回复：[待审#{ITEM.id}] {ITEM.title}",
            in_reply_to="r-3@example.org",
            item_id=ITEM.id,
            sha256="01" * 32,
        ),
        item_id=ITEM.id,
    ),
    "yuegao": lambda: Sample(
        letters.yuegao_request(
            number=3, title=YUEGAO.title, text="请报送。", due=YUEGAO.due, unit=UNIT, to=OFFICER
        ),
        yuegao=3,
        title=YUEGAO.title,
    ),
    "yuegao-reminder": lambda: Sample(
        letters.yuegao_reminder(number=3, title=YUEGAO.title, text="", due=YUEGAO.due, unit=UNIT, to=OFFICER),
        yuegao=3,
        title=YUEGAO.title,
    ),
    "bulletin": bulletin,
}


def test_every_registered_kind_has_a_sample() -> None:
    assert set(SAMPLES) == set(letters.REGISTRY)


@pytest.mark.parametrize("name", sorted(letters.REGISTRY))
def test_every_kind_renders(name: str) -> None:
    letter = SAMPLES[name]().letter
    if letter.template is None:  # the bulletin: rendered once for all its copies
        data, unit_id = letter.context["data"], letter.context["unit_id"]
        text, html = compose.Copies(data).text(unit_id), compose.Copies(data).html(unit_id)
    else:
        text, html = compose.render(letter.template, letter.template_context("广州市人民政府办公厅"))
    assert text.strip() and html.strip()
    if letter.template is not None:
        assert escape(letter.subject) in html  # the layout's heading


@pytest.mark.parametrize("name", sorted(letters.REGISTRY))
def test_a_reply_to_any_kind_is_recognised_as_ours(name: str) -> None:
    sample = SAMPLES[name]()
    letter = sample.letter
    reply = f"回复：{letter.subject}"
    if sample.item_id is not None:
        assert find_item_ref(reply) == sample.item_id
    if sample.refused is not None:
        assert strip_refusal_prefix(reply) == sample.refused
    if sample.yuegao is not None:
        info = parse_subject(reply, dt.date(2026, 11, 4))
        assert info.yuegao == sample.yuegao
        assert strip_yuegao_wording(info.fields.title or "") == sample.title
    if (sample.item_id, sample.refused, sample.yuegao) == (None, None, None):
        # Nothing in the subject names the mail (the bulletin): its signed Message-ID does.
        mid = msgid.make(
            b"k",
            kind=letter.kind,
            item_id=letter.item_id,
            recipient=letter.to,
            dedupe_key=letter.dedupe_key,
            domain="mailbot.test",
        )
        assert msgid.verify(b"k", mid, letter.to) == msgid.OurId(letter.kind, letter.item_id)


def test_a_refusal_names_the_configured_office_and_example_unit() -> None:
    letter = _refusal(RefusedMail("unknown_unit", "单位名称无法识别。", seen="火星区政府"))
    text, _ = compose.render("refusal", letter.template_context("某市人民政府办公厅"))
    assert "单位：荔湾区政府；" in text and "2026-11-03" in text
    stranger = _refusal(RefusedMail("unknown_sender", "发件地址未登记。"))
    assert stranger.context["fix"].startswith("请使用已在某市政府办公厅登记备案")
    assert not stranger.context["show_example"]


def test_classified_content_is_not_echoed_in_the_refusal() -> None:
    letter = _refusal(QuarantinedMail("classified", "含有涉密标识。", seen="机密★1年"))
    text, html = compose.render("refusal", letter.template_context("办公厅"))
    assert "机密★1年" not in text and "机密★1年" not in html


def test_the_kinds_keep_their_outbox_kinds_keys_and_order() -> None:
    built = {name: make().letter for name, make in SAMPLES.items()}
    assert {n: b.kind for n, b in built.items()} == {
        **{
            n: n
            for n in ("receipt", "refusal", "notice", "review", "alert", "confirm", "reply-error", "bulletin")
        },
        "help": "reply-error",
        "yuegao": "yuegao",
        "yuegao-reminder": "yuegao",
    }
    assert built["receipt"].dedupe_key == f"receipt:{ITEM.id}"
    assert built["notice"].dedupe_key == f"notice:{ITEM.id}:12"
    assert built["alert"].dedupe_key == f"alert:{ITEM.id}:duty@example.org"
    assert built["yuegao-reminder"].dedupe_key == f"yuegao-reminder:3:QX01:{OFFICER}"
    assert (
        built["alert"].priority
        < built["receipt"].priority
        < built["review"].priority
        < built["bulletin"].priority
    )
    assert built["receipt"].priority == Priority.RECEIPT_URGENT  # the sample item is urgent
    assert built["alert"].subject.startswith(f"【紧急】[待审#{ITEM.id}] ")
    assert built["notice"].subject == f"[报送#{ITEM.id}] 已采用：{ITEM.title}"
    assert built["confirm"].context["status"] == "未采用"
    assert built["bulletin"].subject == bulletin_title(bulletin().letter.context["data"])


def test_a_not_reviewers_reply_is_answered_once_per_item() -> None:
    def answer(sha: str, item_id: str | None) -> str:
        return letters.reply_error(
            detail="…",
            to=OFFICER,
            subject="收到",
            in_reply_to="",
            item_id=item_id,
            sha256=sha,
            once_per_item=True,
        ).dedupe_key

    assert answer("aa", ITEM.id) == answer("bb", ITEM.id) == f"reply-error:{ITEM.id}:{OFFICER}"
    assert answer("aa", None) == f"reply-error:-:{OFFICER}"


def test_the_review_request_says_what_the_item_corrects_and_answers() -> None:
    context = SAMPLES["review"]().letter.context
    assert context["old_decisions"] == [f"采用 穗府信息 标题（{REVIEWER}）"]
    assert (
        context["yuegao"] == "答复约稿#3《四季度经济运行分析》，截止 2026年11月15日（超时报送，不计约稿加分）"
    )
    assert letters.yuegao_line(
        ItemFacts("2026-0008", "t", "u", OFFICER, "", flags=("约稿待核：无此约稿",)), None
    )
    assert letters.yuegao_line(ItemFacts("2026-0008", "t", "u", OFFICER, ""), None) == ""
