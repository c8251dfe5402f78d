"""The desk's daily practice beyond plain submissions: 约稿, 更正, 雷同 (real servers, real CLI)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from mailbot.app.commission import new_request, queue_reminders
from mailbot.app.context import Runtime
from mailbot.demo import samples
from mailbot.shell.clock import FixedClock
from mailbot.shell.config import load_config
from mailbot.shell.db.models import OutboxRow
from mailbot.shell.db.store import session_scope
from tests import mailstore
from tests.app.test_intake import deliver
from tests.office import REVIEWER, Office, make_office, parse, text_of
from tests.servers import Dovecot, SmtpCapture

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def office(tmp_path: Path, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture) -> Office:
    _, password, url = imap_account
    return make_office(tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                       urgent=())


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def mail(uid: str, name: str, title: str, when: dt.datetime, *, tag: str = "", body: str | None = None,
         seed: int = 0) -> bytes:
    return samples.submission(
        sender=f"{uid.lower()}@gz.example.org",
        subject=tag + samples.labelled_subject(title, name, "张三", "李四", "020-83123456"),
        body=body if body is not None else samples.body_text(name, title, random.Random(seed)),
        date=when,
    )


def test_yuegao_on_time_late_and_missed_reach_scores_and_list(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    office.env["MAILBOT_NOW"] = at("2026-10-08").isoformat()
    out = office.run("yuegao", "new", "--title", "四季度经济运行分析", "--units", "QX01,QX02,QX03",
                     "--due", "2026-10-15")
    assert "约稿#1" in out.stdout
    requests = smtp_capture.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in requests) == ["qx01@gz.example.org", "qx02@gz.example.org",
                                                        "qx03@gz.example.org"]
    assert "【约稿#1】" in text_of(parse(requests[0].content))

    office.env["MAILBOT_NOW"] = at("2026-10-14", 11).isoformat()
    deliver(dovecot, imap_account, mail("QX01", "越秀区政府", "越秀区四季度经济运行分析", at("2026-10-14"),
                                        tag="【约稿#1】", seed=1))
    office.run("poll", "--once")
    office.env["MAILBOT_NOW"] = at("2026-10-17", 11).isoformat()
    deliver(dovecot, imap_account, mail("QX02", "荔湾区政府", "荔湾区四季度经济运行分析", at("2026-10-17"),
                                        tag="【约稿#1】", seed=2))
    office.run("poll", "--once")

    items = {i["unit"]: i for i in office.json("items", "list")}
    assert items["QX01"]["yuegao"] == 1 and "约稿超时" not in items["QX01"]["flags"]
    assert "约稿超时" in items["QX02"]["flags"]
    office.run("decide", items["QX01"]["id"], "采用", "穗府信息", "标题", "--at", "2026-10-20T10:00:00")
    office.run("decide", items["QX02"]["id"], "采用", "穗府信息", "标题", "--at", "2026-10-20T10:00:00")

    (req,) = office.json("yuegao", "list")
    assert {u["unit"]: u["state"] for u in req["units"]} == {"QX01": "on_time", "QX02": "late", "QX03": "missed"}
    rows = {r["unit"]: r for r in office.json("scores", "--period", "2026-10")}
    scores = {unit: r["score"] for unit, r in rows.items()}
    # A missed 约稿 is a penalty, not a submission: QX03 sent nothing and its row says so.
    assert (rows["QX01"]["submitted"], rows["QX02"]["submitted"], rows["QX03"]["submitted"]) == (1, 1, 0)
    assert scores["QX01"] == 4  # 标题 2 + 约稿 2
    assert scores["QX02"] == -3  # 标题 2, no 约稿 bonus, late −5
    assert scores["QX03"] == -5  # never answered: −5 on the deadline
    explained = office.json("scores", "--period", "2026-10", "--explain", "QX03")
    assert [ln["points"] for ln in explained] == [-5] and "约稿#1" in explained[0]["title"]


def test_yuegao_reminder_goes_the_day_before_to_units_that_have_not_answered(tmp_path: Path) -> None:
    office = make_office(tmp_path / "o", mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox")
    clock = FixedClock(at("2026-10-08").astimezone(dt.UTC))
    rt = Runtime(load_config(office.config), clock=clock)
    try:
        d = rt.directory()
        with session_scope(rt.engine) as s:
            new_request(rt, s, title="防汛工作情况", units=[d.get("QX01"), d.get("QX02")],  # type: ignore[list-item]
                        due=dt.date(2026, 10, 15), text="")
        mailstore.append(rt.mailbox, mail("QX01", "越秀区政府", "越秀区防汛工作情况", at("2026-10-08"), tag="【约稿#1】"))
        from mailbot.app.intake import poll_once

        poll_once(rt)
        clock.set(at("2026-10-14", 9).astimezone(dt.UTC))
        with session_scope(rt.engine) as s:
            assert queue_reminders(rt, s, clock.now()) == 1
            assert queue_reminders(rt, s, clock.now()) == 1  # counted again, but queued once
        with session_scope(rt.engine) as s:
            reminders = [r for r in s.exec(select(OutboxRow).where(OutboxRow.kind == "yuegao")).all()
                         if "提醒" in r.subject]
        assert [r.rcpt_to for r in reminders] == [["qx02@gz.example.org"]]
    finally:
        rt.close()


def test_correction_of_own_item_supersedes_it_and_another_units_is_refused(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    now = dt.datetime.now(dt.UTC)
    deliver(dovecot, imap_account, mail("QX01", "越秀区政府", "越秀区推进垃圾分类", now, seed=3))
    office.run("poll", "--once")
    (first,) = office.json("items", "list")
    office.run("decide", first["id"], "采用", "短波")
    deliver(dovecot, imap_account,
            mail("QX01", "越秀区政府", "越秀区推进垃圾分类（更正稿）", now, tag=f"【更正#{first['id']}】", seed=4),
            mail("QX02", "荔湾区政府", "荔湾区抢着改越秀的稿", now, tag=f"【更正#{first['id']}】", seed=5))
    office.run("poll", "--once")
    items = {i["id"]: i for i in office.json("items", "list")}
    assert items[first["id"]]["status"] == "superseded" and items[first["id"]]["score"] is None
    new = next(i for i in items.values() if i["correction_of"] == first["id"] and i["status"] == "pending")
    assert new["unit"] == "QX01" and "更正" in new["flags"]
    refused = next(i for i in items.values() if i["status"] == "refused")
    assert "更正的信息编号不属于本单位" in refused["reason"]
    reviews = [parse(m.content) for m in smtp_capture.messages
               if m.rcpt_tos == (REVIEWER,) and new["id"] in str(parse(m.content)["Subject"])]
    body = text_of(reviews[0])
    assert f"本稿更正 {first['id']}" in body and "采用 穗府信息 短波" in body  # the old decision is shown
    scores = {r["unit"]: r["score"] for r in office.json("scores", "--period", now.astimezone(TZ).strftime("%Y-%m"))}
    assert scores["QX01"] == 0  # the superseded item's points are gone


def test_near_identical_items_are_flagged_and_different_ones_are_not(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    now = dt.datetime.now(dt.UTC)
    text = samples.body_text("白云区", "防汛防风", random.Random(9)) * 2
    copied = text.replace("白云区", "天河区").replace("；", "，", 2)
    deliver(dovecot, imap_account,
            mail("QX05", "白云区政府", "白云区全力做好防汛防风工作", now - dt.timedelta(days=2), body=text),
            mail("QX06", "天河区政府", "天河区全力做好防汛防风工作", now, body=copied),
            mail("QX01", "越秀区政府", "越秀区推进老旧小区改造", now, seed=11))
    office.run("poll", "--once")
    items = {i["unit"]: i for i in office.json("items", "list")}
    assert "雷同" in items["QX06"]["flags"] and items["QX06"]["similar_to"] == items["QX05"]["id"]
    assert items["QX06"]["similarity"] >= 0.5
    assert "雷同" not in items["QX01"]["flags"] and "雷同" not in items["QX05"]["flags"]
    review = next(parse(m.content) for m in smtp_capture.wait_for(6)
                  if m.rcpt_tos == (REVIEWER,) and items["QX06"]["id"] in str(parse(m.content)["Subject"]))
    assert f"雷同：与 {items['QX05']['id']}" in text_of(review)


def _reviews(smtp: SmtpCapture) -> dict[str, str]:
    """The review requests' texts by the item number in their subject."""
    out = {}
    for m in smtp.messages:
        msg = parse(m.content)
        if m.rcpt_tos == (REVIEWER,) and "[待审#" in str(msg["Subject"]):
            out[str(msg["Subject"]).split("#", 1)[1].split("]", 1)[0]] = text_of(msg)
    return out


def test_answer_to_a_yuegao_request_sent_as_a_reply_is_filed_and_linked(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    office.env["MAILBOT_NOW"] = at("2026-10-08").isoformat()
    office.run("yuegao", "new", "--title", "四季度经济运行分析", "--units", "QX01", "--due", "2026-10-15")
    (request,) = smtp_capture.wait_for(1)
    office.env["MAILBOT_NOW"] = at("2026-10-12", 11).isoformat()
    answer = samples.reply(
        sender="qx01@gz.example.org",
        to_message=request.content,
        command="越秀区前三季度地区生产总值同比增长5.2%，四季度预计保持平稳。\n"
        "单位：越秀区政府\n签发人：张三\n报送人：李四 电话：020-83123456",
        date=at("2026-10-12"),
    )
    deliver(dovecot, imap_account, answer)
    office.run("poll", "--once")

    (item,) = office.json("items", "list")
    assert item["status"] == "pending" and item["unit"] == "QX01"
    assert item["yuegao"] == 1 and "约稿" in item["flags"]
    assert item["title"] == "四季度经济运行分析"  # not our "（请于10月15日前报送）"
    (req,) = office.json("yuegao", "list")
    assert req["units"] == [{"unit": "QX01", "unit_name": "越秀区政府", "state": "on_time", "item": item["id"]}]
    assert "答复约稿#1《四季度经济运行分析》，截止 2026年10月15日" in _reviews(smtp_capture)[item["id"]]


def test_yuegao_tag_without_a_matching_request_earns_nothing_until_a_reviewer_grants_it(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    office.env["MAILBOT_NOW"] = at("2026-10-08").isoformat()
    office.run("yuegao", "new", "--title", "四季度经济运行分析", "--units", "QX02,QX05", "--due", "2026-10-15")
    office.env["MAILBOT_NOW"] = at("2026-10-12", 11).isoformat()
    deliver(dovecot, imap_account,
            mail("QX01", "越秀区政府", "越秀区不请自来的约稿", at("2026-10-12"), tag="【约稿#1】", seed=1),
            mail("QX03", "海珠区政府", "海珠区编号瞎填的约稿", at("2026-10-12"), tag="【约稿#9】", seed=2),
            mail("QX04", "黄埔区政府", "黄埔区不写编号的约稿", at("2026-10-12"), tag="【约稿】", seed=4),
            mail("QX05", "白云区政府", "白云区四季度经济运行分析", at("2026-10-12"), tag="【约稿】", seed=5),
            mail("QX02", "荔湾区政府", "荔湾区四季度经济运行分析", at("2026-10-12"), tag="【约稿#1】", seed=3))
    office.run("poll", "--once")
    items = {i["unit"]: i for i in office.json("items", "list")}
    assert "约稿" not in items["QX01"]["flags"] and items["QX01"]["yuegao"] is None
    assert "约稿" not in items["QX03"]["flags"] and items["QX03"]["yuegao"] is None
    assert "约稿" in items["QX02"]["flags"] and items["QX02"]["yuegao"] == 1
    # A bare 【约稿】 answers the unit's one open request; a unit with none gets nothing for it.
    assert "约稿" in items["QX05"]["flags"] and items["QX05"]["yuegao"] == 1
    assert "约稿" not in items["QX04"]["flags"] and items["QX04"]["yuegao"] is None

    smtp_capture.wait_for(2 + 10)  # the requests, then a receipt and a review request per item
    reviews = _reviews(smtp_capture)
    assert "约稿待核：标注约稿#1，但越秀区政府不在该约稿范围" in reviews[items["QX01"]["id"]]
    assert "约稿待核：标注约稿#9，但无此约稿" in reviews[items["QX03"]["id"]]
    assert "约稿待核：标注约稿但未注明编号，本单位没有待报送的约稿" in reviews[items["QX04"]["id"]]
    assert "如确属约稿，请回复“约稿”" in reviews[items["QX03"]["id"]]
    assert "答复约稿#1《四季度经济运行分析》，截止 2026年10月15日" in reviews[items["QX02"]["id"]]
    (req,) = office.json("yuegao", "list")
    assert {u["unit"]: u["state"] for u in req["units"]} == {"QX02": "on_time", "QX05": "on_time"}

    for unit in ("QX01", "QX02", "QX03"):
        office.run("decide", items[unit]["id"], "采用", "穗府信息", "标题", "--at", "2026-10-20T10:00:00")
    # A reviewer who knows QX03 was asked by phone grants the 约稿 by hand.
    office.run("decide", items["QX03"]["id"], "约稿", "--at", "2026-10-20T10:00:00")
    scores = {r["unit"]: r["score"] for r in office.json("scores", "--period", "2026-10")}
    assert scores["QX01"] == 2  # 标题 2, no 约稿 bonus for the tag alone
    assert scores["QX02"] == 4  # 标题 2 + 约稿 2
    assert scores["QX03"] == 4  # granted by the reviewer


def test_a_correction_of_an_on_time_yuegao_answer_stays_on_time(
    office: Office, dovecot: Dovecot, imap_account: tuple[str, str, str], smtp_capture: SmtpCapture
) -> None:
    office.env["MAILBOT_NOW"] = at("2026-10-08").isoformat()
    office.run("yuegao", "new", "--title", "四季度经济运行分析", "--units", "QX01", "--due", "2026-10-15")
    office.env["MAILBOT_NOW"] = at("2026-10-14", 11).isoformat()
    deliver(dovecot, imap_account, mail("QX01", "越秀区政府", "越秀区四季度经济运行分析", at("2026-10-14"),
                                        tag="【约稿#1】", seed=1))
    office.run("poll", "--once")
    (answer,) = office.json("items", "list")
    # Two days after the deadline the unit corrects a figure in its on-time answer.
    office.env["MAILBOT_NOW"] = at("2026-10-17", 11).isoformat()
    deliver(dovecot, imap_account, mail("QX01", "越秀区政府", "越秀区四季度经济运行分析（更正）", at("2026-10-17"),
                                        tag=f"【约稿#1】【更正#{answer['id']}】", seed=2))
    office.run("poll", "--once")
    new = next(i for i in office.json("items", "list") if i["correction_of"] == answer["id"])
    assert new["yuegao"] == 1 and "约稿" in new["flags"] and "约稿超时" not in new["flags"], new["flags"]
    (req,) = office.json("yuegao", "list")
    assert {u["unit"]: u["state"] for u in req["units"]} == {"QX01": "on_time"}
