"""`mailbot demo`: a month at a small office, end to end, on embedded defaults only.

It writes a config (Maildir inbox, SQLite, file outbox) into a fresh
directory, delivers a month of realistic submissions day by day, lets the
editors answer the review requests by reply, then scores the month. Every
step goes through the same code as the daemon; only the clock is pinned so
the month can pass in seconds.
"""

from __future__ import annotations

import datetime as dt
import mailbox as stdlib_mailbox
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.app import queries
from mailbot.app.commission import create_request
from mailbot.app.context import Runtime
from mailbot.app.intake import poll_once
from mailbot.app.publish import issue, write_out
from mailbot.core.bulletin.content import bulletin_title
from mailbot.core.scoring.periods import parse_period
from mailbot.core.scoring.scores import format_points
from mailbot.demo import samples
from mailbot.shell.clock import FixedClock
from mailbot.shell.config import load_config
from mailbot.shell.endpoint import local_path
from mailbot.shell.outbox import deliver

TZ = ZoneInfo("Asia/Shanghai")
DEFAULTS = Path(__file__).resolve().parent.parent / "defaults"  # the embedded defaults, shipped in the wheel
EDITOR = "editor@example.org"

# (unit id, name as officers write it, signer, reporter, phone)
UNITS = [
    ("QX01", "越秀区政府", "陈建国", "李晓明", "020-83123456"),
    ("QX02", "荔湾区政府", "黄志强", "周丽", "020-81234567"),
    ("QX03", "海珠区政府", "林伟", "吴芳", "13826012345"),
    ("QX05", "白云区政府", "何军", "郑敏", "020-86123456"),
    ("QX06", "天河区政府", "梁勇", "冯静", "13902234567"),
    ("BA01", "市发改委", "罗平", "许娜", "020-83133123"),
    ("BA05", "市公安局", "宋涛", "韩雪", "020-83118888"),
    ("BA07", "市民政局", "唐明", "曹颖", "020-83122211"),
    ("BA20", "市地税局", "邓辉", "彭丹", "020-38381234"),
    ("BB07", "市卫生局", "谢斌", "袁媛", "020-81090123"),
    ("ZA04", "广州海关", "蔡峰", "潘婷", "020-81101234"),
    ("ZA20", "市地税局第二稽查局", "杜刚", "叶青", "020-38385678"),
]


@dataclass
class DemoResult:
    """Where the demo left its output."""

    root: Path
    config: Path
    items: int
    outbox_dir: Path
    bulletin_dir: Path
    period: str
    # The bulletin as written: .html, .txt and the .xlsx (named after the bulletin's title).
    bulletin_files: list[Path] = field(default_factory=list)


def _write_config(root: Path) -> Path:
    cfg = root / "config"
    cfg.mkdir(parents=True)
    shutil.copy(DEFAULTS / "units.toml", cfg / "units.toml")
    shutil.copy(DEFAULTS / "scoring.toml", cfg / "scoring.toml")
    (cfg / "mailbot.toml").write_text(
        (DEFAULTS / "mailbot.toml")
        .read_text(encoding="utf-8")
        .replace("secret = ", "secret_unused = "),
        encoding="utf-8",
    )
    return cfg / "mailbot.toml"


def _inbox(rt: Runtime) -> stdlib_mailbox.Maildir:
    """The demo office's Maildir inbox, to deliver into as a mail server would (new/ via tmp/)."""
    path = local_path(rt.config.mailbox.url.removeprefix("maildir://"), rt.config.base_dir)
    return stdlib_mailbox.Maildir(str(path), factory=None, create=True)


def _officer(unit_id: str) -> str:
    return f"{unit_id.lower()}@gz.example.org"


def _submissions(month_start: dt.date, rng: random.Random) -> list[tuple[dt.datetime, bytes, str]]:
    """About 40 mails over the month: (when, raw, what it shows)."""
    out: list[tuple[dt.datetime, bytes, str]] = []
    days = [month_start + dt.timedelta(days=d) for d in range(0, 28, 2)]
    n = 0
    for day in days:
        for _ in range(3):
            uid, uname, signer, reporter, phone = UNITS[n % len(UNITS)]
            topic = samples.TOPICS[n % len(samples.TOPICS)]
            short = uname.replace("政府", "")
            title = f"{short}{rng.choice(['扎实推进', '多措并举推进', '创新开展', '全力抓好'])}{topic}工作"
            body = samples.body_text(short, topic, rng)
            when = dt.datetime.combine(day, dt.time(9 + n % 8, 7 * (n % 8)), TZ)
            kind = "labelled"
            subject = samples.labelled_subject(title, uname, signer, reporter, phone)
            attachments: list[tuple[str, str, bytes]] = []
            charset = "utf-8"
            if n % 5 == 1:
                subject, kind = (
                    samples.positional_subject(title, uname, signer, reporter, phone),
                    "positional",
                )
            if n % 7 == 3:
                charset, kind = "gbk", kind + "+GBK"
            if n % 9 == 4:
                doc = samples.docx_bytes([title, body])
                attachments = [
                    (
                        f"{title}.docx",
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                        doc,
                    )
                ]
                body, kind = "正文见附件，请审阅。", kind + "+docx"
            raw = samples.submission(
                sender=_officer(uid),
                subject=subject,
                body=body,
                date=when,
                charset=charset,
                attachments=attachments,
                sender_name=reporter,
            )
            out.append((when, raw, kind))
            n += 1
    mid = month_start + dt.timedelta(days=11)
    at = dt.datetime.combine(mid, dt.time(15, 20), TZ)
    out.append(
        (
            at,
            samples.submission(
                sender=_officer("QX03"),
                subject="【突发】"
                + samples.labelled_subject(
                    "海珠区一在建工地发生局部坍塌无人员伤亡", "海珠区政府", "林伟", "吴芳", "13826012345"
                ),
                body="今日14时许，海珠区某在建工地发生局部坍塌，经核查无人员伤亡，区政府已启动应急预案。",
                date=at,
            ),
            "urgent",
        )
    )
    out.append(
        (
            at + dt.timedelta(hours=1),
            samples.submission(
                sender=_officer("QX02"),
                charset="big5",
                subject="標題：荔灣區推動老字號品牌振興；單位：荔灣區政府；簽發人：黃志強；報送人：周麗；電話：020-81234567",
                body="荔灣區出台扶持老字號發展十條措施，首批認定老字號企業36家。",
                date=at + dt.timedelta(hours=1),
            ),
            "Traditional (Big5)",
        )
    )
    out.append(
        (
            at + dt.timedelta(hours=2),
            samples.submission(
                sender=_officer("QX06"),
                subject="【机密】"
                + samples.labelled_subject(
                    "关于某专项工作的情况报告", "天河区政府", "梁勇", "冯静", "13902234567"
                ),
                body="机密★1年\n（正文略）",
                date=at + dt.timedelta(hours=2),
            ),
            "classified → quarantined",
        )
    )
    out.append(
        (
            at + dt.timedelta(hours=3),
            samples.submission(
                sender="someone@qq.example.com",
                subject=samples.labelled_subject(
                    "关于群众反映问题的信息", "越秀区政府", "无", "无", "13800000000"
                ),
                body="……",
                date=at + dt.timedelta(hours=3),
            ),
            "unknown sender → refused",
        )
    )
    out.append(
        (
            at + dt.timedelta(hours=4),
            samples.submission(
                sender=_officer("BA01"),
                subject="【约稿#1】"
                + samples.labelled_subject(
                    "关于四季度经济运行情况的分析", "市发改委", "罗平", "许娜", "020-83133123"
                ),
                body="按照约稿要求，现报送四季度经济运行分析。全市地区生产总值同比增长5.2%。",
                date=at + dt.timedelta(hours=4),
            ),
            "约稿#1 answer, on time",
        )
    )
    # A direct-report point sends its parent's piece almost word for word: flagged 雷同.
    twin = dt.datetime.combine(month_start + dt.timedelta(days=19), dt.time(16, 5), TZ)
    parent_text = samples.body_text("市地税局", "税收征管改革", random.Random(7))
    for uid, name, signer, reporter, phone, text in (
        ("BA20", "市地税局", "邓辉", "彭丹", "020-38381234", parent_text),
        (
            "ZA20",
            "市地税局第二稽查局",
            "杜刚",
            "叶青",
            "020-38385678",
            parent_text.replace("市地税局", "第二稽查局"),
        ),
    ):
        twin += dt.timedelta(minutes=30)
        out.append(
            (
                twin,
                samples.submission(
                    sender=_officer(uid),
                    date=twin,
                    body=text,
                    subject=samples.labelled_subject(
                        f"{name}深化税收征管改革", name, signer, reporter, phone
                    ),
                ),
                "雷同 pair" if uid == "ZA20" else "labelled",
            )
        )
    return sorted(out, key=lambda t: t[0])


# What the editor answers, by item order: a realistic spread of decisions.
_DECISIONS = [
    "采用 穗府信息 标题",
    "采用 短波",
    "不采用 内容与此前报送的信息重复",
    "采用 穗府要情",
    "采用 穗府信息 标题\n批示 市",
    "采用 穗府信息专报\n省采用",
    "暂不采用 请补充具体数据后重报",
    "采用 短波",
    "采用 穗府调研报告 主办",
]


def run_demo(
    root: Path, *, reset: bool = False, month: str | None = None, say: Callable[[str], None] = print
) -> DemoResult:
    """Run the whole demo in `root` (must be new or empty unless reset)."""
    if root.exists() and any(root.iterdir()):
        if not reset:
            raise FileExistsError(f"{root} is not empty: use --reset or another --dir")
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    config = _write_config(root)
    today = dt.date.today()
    if month:
        year, mon = (int(x) for x in month.split("-"))
    else:
        first = today.replace(day=1) - dt.timedelta(days=1)
        year, mon = first.year, first.month
    month_start = dt.date(year, mon, 1)
    rng = random.Random(20261103)
    clock = FixedClock(dt.datetime.combine(month_start, dt.time(8), TZ).astimezone(dt.UTC))
    rt = Runtime(load_config(config), clock=clock)
    say(f"[1/5] office set up in {root} — 130 units of the Guangzhou list, Guangzhou scoring rules")
    d = rt.directory()
    create_request(
            rt,
            title="四季度经济运行情况分析",
            units=[u for u in (d.get("BA01"), d.get("QX01")) if u],
            due=month_start + dt.timedelta(days=20),
            text="请围绕四季度经济运行情况、存在问题和对策建议报送。",
    )
    deliver(rt.engine, rt.transport, now=clock.now())
    say("      约稿#1 mailed to 市发改委 and 越秀区政府 (due in 20 days)")
    inbox = _inbox(rt)
    mails = _submissions(month_start, rng)
    say(f"[2/5] {len(mails)} mails arrive over {month_start:%Y-%m}, polled as they come")
    decided = 0
    for n, (when, raw, kind) in enumerate(mails, 1):
        clock.set(when.astimezone(dt.UTC) + dt.timedelta(minutes=1))
        inbox.add(raw)
        report = poll_once(rt)
        deliver(rt.engine, rt.transport, now=clock.now())
        disp = ", ".join(report.counts)
        if kind != "labelled" or n % 10 == 0:
            say(f"      {when:%m-%d %H:%M}  {kind:<26} → {disp}")
        # The editor answers the day's review requests the next morning.
        clock.set(clock.now() + dt.timedelta(hours=18))
        decided += _editor_answers(rt, inbox, clock, rng)
    say(
        f"[3/5] the editor replied to {decided} review requests from a mail client (采用, 不采用, 批示, 省采用 …)"
    )
    _undo_one(rt, inbox, clock)
    lines = queries.items(rt, status=None, unit=None, period=None)
    counted = len(lines)
    by_status: dict[str, int] = {}
    for line in lines:
        by_status[line.item.status] = by_status.get(line.item.status, 0) + 1
    say("      items: " + ", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    label = f"{year}-{mon:02d}"
    period = parse_period(label, rt.rules.calendar)
    rows = queries.score_rows(rt, period)
    say(f"[4/5] scores of {label} (Guangzhou rules), top of each series:")
    for series in dict.fromkeys(r.series for r in rows):
        top = [r for r in rows if r.series == series and r.score][:3]
        if top:
            say(
                f"      {series}: "
                + "；".join(f"{r.rank}. {r.unit_name} {format_points(r.score)}分" for r in top)
            )
    # The bulletin goes out on the 1st of the next month at 09:00, as the schedule says.
    clock.set(dt.datetime.combine(period.end.date(), dt.time(9), TZ).astimezone(dt.UTC))
    bulletin_dir = root / "bulletin"
    bulletin_files = write_out(rt, period, bulletin_dir, emails=False)
    data, queued = issue(rt, period)
    deliver(rt.engine, rt.transport, now=clock.now())
    say(
        f"[5/5] {bulletin_title(data)} sent: {queued} copies, one per unit address, each opening with its own line"
    )
    rt.close()
    outbox_dir = rt.config.resolve(rt.config.smtp.url.removeprefix("file://")).resolve()
    return DemoResult(root, config, counted, outbox_dir, bulletin_dir, label, bulletin_files)


def _editor_answers(rt: Runtime, inbox: stdlib_mailbox.Maildir, clock: FixedClock, rng: random.Random) -> int:
    """Reply to every review request that has not been answered yet."""
    # The editor's mail client: every review request received, and the confirmations of the answered ones.
    answered = {m.item_id for m in queries.outgoing(rt, "confirm")}
    pending = [m for m in queries.outgoing(rt, "review") if m.item_id not in answered]
    n = 0
    for req in pending:
        seq = int((req.item_id or "0-0").split("-")[1])
        command = _DECISIONS[seq % len(_DECISIONS)]
        raw = samples.reply(
            sender=EDITOR,
            to_message=req.raw,
            command=command,
            date=clock.now().astimezone(TZ),
            quote_style="gt" if seq % 2 else "qq",
        )
        inbox.add(raw)
        n += 1
    if n:
        poll_once(rt)
        deliver(rt.engine, rt.transport, now=clock.now())
    return n


def _undo_one(rt: Runtime, inbox: stdlib_mailbox.Maildir, clock: FixedClock) -> None:
    """The editor takes one adoption back with 撤销, as happens in real life."""
    adopted = sorted(line.item.id for line in queries.items(rt, status="adopted", unit=None, period=None))
    req = next((m for m in queries.outgoing(rt, "review") if adopted and m.item_id == adopted[0]), None)
    if req is None:
        return
    raw = samples.reply(sender=EDITOR, to_message=req.raw, command="撤销", date=clock.now().astimezone(TZ))
    inbox.add(raw)
    poll_once(rt)
    deliver(rt.engine, rt.transport, now=clock.now())
