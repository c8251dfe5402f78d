"""What the bulletin gathers from the database: a quarter's shortfall list and upper-office adoptions.

A real office on the embedded defaults (Maildir, SQLite, file outbox): mails are
filed by `poll --once`, decided with `mailbot decide`, and the bulletin is
written with `bulletin --out`, as an operator would.
"""

from __future__ import annotations

import datetime as dt
import mailbox
import random
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.demo import samples
from tests.office import REPO, Office, make_office

TZ = ZoneInfo("Asia/Shanghai")
UNITS = (("QX01", "越秀区政府"), ("QX02", "荔湾区政府"), ("QX03", "海珠区政府"))


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def office_with_items(tmp_path: Path, scoring: Path, day: str) -> tuple[Office, dict[str, str]]:
    """An office whose three 区县 units each filed one item on `day`; returns item ids by unit."""
    office = make_office(tmp_path / "office", mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox")
    shutil.copy(scoring, office.root / "scoring.toml")
    office.env["MAILBOT_NOW"] = at(day).isoformat()
    office.run("messages", "list")  # creates the Maildir and the database
    inbox = mailbox.Maildir(office.root / "var" / "inbox")
    for n, (uid, name) in enumerate(UNITS):
        title = f"{name}推进老旧小区改造第{n}批"
        inbox.add(
            samples.submission(
                sender=f"{uid.lower()}@gz.example.org",
                subject=samples.labelled_subject(title, name, "张三", "李四", "020-83123456"),
                body=samples.body_text(name, "老旧小区改造", random.Random(n)),
                date=at(day),
                message_id=f"<publish-{n}@gz.example.org>",
            )
        )
    office.run("poll", "--once")
    return office, {i["unit"]: i["id"] for i in office.json("items", "list")}


def test_a_quarters_own_bulletin_lists_the_units_below_their_quarterly_target(tmp_path: Path) -> None:
    # Guangzhou: 区县 must earn 18 points a quarter; one 专报 (8) leaves QX01 short by 10.
    office, ids = office_with_items(tmp_path, REPO / "config" / "scoring.toml", "2026-09-08")
    office.env["MAILBOT_NOW"] = at("2026-12-02").isoformat()
    office.run("decide", ids["QX01"], "采用", "专报", "--at", "2026-09-10T10:00:00")
    out = tmp_path / "out"
    office.run("bulletin", "--period", "2026-Q4", "--out", str(out))
    body = (out / "bulletin-2026-Q4.txt").read_text(encoding="utf-8")
    assert "未完成季度指标的单位" in body
    shortfall = body.split("未完成季度指标的单位", 1)[1]
    assert "越秀区政府" in shortfall and "荔湾区政府" in shortfall


def test_adoption_in_an_upper_offices_publication_counts_as_an_upper_adoption(tmp_path: Path) -> None:
    # The city profile (范文6): 省专报信息 is the province's publication, 信息快报 the city's own.
    office, ids = office_with_items(tmp_path, REPO / "config" / "profiles" / "city.toml", "2026-10-08")
    office.env["MAILBOT_NOW"] = at("2026-11-02").isoformat()
    office.run("decide", ids["QX01"], "采用", "省专报信息", "--at", "2026-10-12T10:00:00")
    office.run("decide", ids["QX02"], "采用", "信息快报", "--at", "2026-10-12T10:00:00")
    office.run("decide", ids["QX03"], "上级采用", "国办", "--at", "2026-10-13T10:00:00")
    out = tmp_path / "out"
    office.run("bulletin", "--period", "2026-10", "--out", str(out))
    body = (out / "bulletin-2026-10.txt").read_text(encoding="utf-8")
    assert "上级采用 2 条" in body, body[:600]
    upper = body.split("上级采用信息", 1)[1]
    assert "越秀区政府" in upper and "海珠区政府" in upper and "荔湾区政府" not in upper.split("采用为零")[0]
