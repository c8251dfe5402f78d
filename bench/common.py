"""Shared pieces of `python -m bench`: sizes, the realistic mail corpus, statistics, the report.

Every benchmark measures mailbot and a baseline in the same run on the same
machine, because this disk and these 2 shared cores vary by ±20% between
runs (notes/limits.md); only the ratio carries over to another machine.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import pickle
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from mailbot.core.submission.units import Unit, load_units
from mailbot.demo import samples

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"


@dataclass(frozen=True, slots=True)
class Size:
    """How big each benchmark is at one `--size`."""

    intake: int  # mails in the backlog
    rss_small: int  # backlog whose peak RSS is compared with `intake`'s
    latency_rounds: int
    units: int  # scoring
    events: int
    similarity: int
    multi: int  # backlog for the two-daemon case
    profile: int


SIZES: dict[str, Size] = {
    "tiny": Size(30, 10, 3, 130, 2_000, 500, 30, 30),
    "small": Size(300, 100, 10, 500, 20_000, 2_000, 300, 300),
    "full": Size(10_000, 1_000, 50, 3_000, 200_000, 20_000, 3_000, 1_000),
}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the results table: a figure of ours, the baseline's, and ours ÷ baseline."""

    bench: str
    metric: str
    ours: float | None
    baseline: float | None = None
    unit: str = ""
    runs: tuple[float, ...] = ()
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.baseline:
            return None
        return self.ours / self.baseline


@dataclass
class Section:
    """What one benchmark reports: table rows plus free text (findings, counts)."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None


def median(values: Sequence[float]) -> float:
    """The median (the figure reported for repeated runs)."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile by nearest rank (p95 of latencies)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return float(ordered[k])


class Timer:
    """`with Timer() as t: …; t.seconds`."""

    seconds = 0.0

    def __enter__(self) -> Timer:
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0


# -- the corpus ------------------------------------------------------------------------

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高梁郑谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷黎史龙陶贺顾毛郝龚邵万钱严覃武戴莫孔向常汤"
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌凯晨婷雪梅海燕立新永辉晓东俊杰"
)
_VERBS = ("扎实推进", "全力抓好", "持续深化", "统筹推进", "大力实施", "着力加强", "积极探索", "全面落实")
_TAILS = ("取得实效", "见行见效", "成效明显", "走深走实", "提质增效", "再上新台阶", "工作情况", "的做法")
# Sentences officers write, with slots; a body is an opening, 3–7 of these and a closing.
_POOL = (
    "{unit}坚持以人民为中心，把{topic}作为民生实事的重要内容，列入年度重点工作任务清单。",
    "成立由主要领导任组长的工作专班，建立“一周一调度、一月一通报”工作机制。",
    "累计投入资金{money}万元，完成项目{count}个，惠及群众{people}余人。",
    "一是强化统筹协调，细化任务分工，明确时间节点，压实各方责任。",
    "二是突出问题导向，逐项梳理群众反映集中的难点堵点，建立问题台账{count}项。",
    "三是坚持长效管理，将{topic}纳入年度绩效考核，定期开展督导检查。",
    "组织开展专项检查{count}次，发现并整改问题隐患{people}处，整改率达{pct}%。",
    "创新推行“街道吹哨、部门报到”机制，推动{count}个部门力量下沉一线。",
    "依托政务服务平台，实现{topic}相关事项“一网通办”，平均办理时限压缩{pct}%。",
    "开展入户走访{people}户次，收集意见建议{count}条，已办结{pct}%。",
    "引入社会资本{money}万元，探索政府引导、市场运作、群众参与的多元投入模式。",
    "加强宣传引导，制作宣传资料{people}份，举办专题培训{count}场，营造浓厚氛围。",
    "截至{month}月底，各项指标完成率均超过{pct}%，走在全市前列。",
    "建立健全联席会议制度，定期研究解决{topic}工作中的重大问题。",
    "聚焦群众急难愁盼，推出便民利民措施{count}项，群众满意度达{pct}%。",
    "强化要素保障，统筹安排专项资金{money}万元，确保项目按期推进。",
    "注重典型引路，培育示范点{count}个，形成一批可复制可推广的经验做法。",
    "实行挂图作战、销号管理，对{count}项重点任务逐项明确责任单位和完成时限。",
    "充分发挥基层党组织战斗堡垒作用，组织党员志愿者{people}人次参与。",
    "同比增长{pct}.{digit}%，增速较上季度提高{digit}个百分点。",
    "邀请人大代表、政协委员和群众代表{count}人开展评议，收集意见{count}条。",
    "{unit}还将{topic}与城市更新、乡村振兴等工作统筹推进，形成工作合力。",
)
_CLOSINGS = (
    "下一步，{unit}将持续巩固工作成效，推动{topic}工作走深走实。",
    "下一步，{unit}将认真总结经验做法，形成长效工作机制。",
    "下一步，{unit}将聚焦薄弱环节，持续补短板强弱项，确保完成全年目标任务。",
)
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def officer_units() -> list[Unit]:
    """The shipped units that have a registered officer (so their mail is accepted)."""
    return [u for u in load_units(REPO / "config" / "units.toml") if u.officers]


def _body(rng: random.Random, unit: str, topic: str) -> list[str]:
    slots = {
        "unit": unit,
        "topic": topic,
        "money": rng.randint(50, 9800),
        "count": rng.randint(3, 120),
        "people": rng.randint(200, 90000),
        "pct": rng.randint(60, 99),
        "month": rng.randint(1, 12),
        "digit": rng.randint(0, 9),
    }
    lead = f"今年以来，{unit}围绕{topic}重点任务，{rng.choice(_VERBS)}各项工作，取得阶段性成效。"
    middle = [s.format(**slots) for s in rng.sample(_POOL, rng.randint(3, 7))]
    return [lead, "".join(middle), rng.choice(_CLOSINGS).format(**slots)]


def make_mail(
    rng: random.Random, units: Sequence[Unit], when: dt.datetime, *, docx_cache: dict[int, bytes]
) -> bytes:
    """One realistic submission: labelled Chinese subject, GBK or UTF-8 body, sometimes a .docx or a photo."""
    unit = rng.choice(units)
    short = unit.short or unit.name
    topic = rng.choice(samples.TOPICS)
    title = f"{short}{rng.choice(_VERBS)}{topic}{rng.choice(_TAILS)}"
    signer = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
    reporter = rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", rng.choice(_GIVEN)))
    phone = f"020-8{rng.randint(1000000, 9999999)}"
    subject = samples.labelled_subject(title, unit.name, signer, reporter, phone)
    paragraphs = _body(rng, short, topic)
    roll = rng.random()
    attachments: list[tuple[str, str, bytes]] = []
    body = f"{title}\n\n" + "\n".join(paragraphs) + f"\n\n{unit.name}\n报送人：{reporter} {phone}\n"
    if roll < 0.10:
        # The text travels as a Word file; the mail body is a short cover note.
        key = rng.randrange(64)  # a few dozen distinct files: python-docx costs ~20 ms each
        if key not in docx_cache:
            docx_cache[key] = samples.docx_bytes([title, *paragraphs])
        attachments.append((f"{title}.docx", _DOCX, docx_cache[key]))
        body = f"各位领导：\n\n报送信息《{title}》，正文见附件，请审阅。\n\n{unit.name} {reporter}\n"
    elif roll < 0.15:
        attachments.append(("现场照片.jpg", "image/jpeg", b"\xff\xd8\xff\xe0" + rng.randbytes(50_000)))
    charset = "gbk" if rng.random() < 0.3 else "utf-8"
    return samples.submission(
        sender=unit.officers[0],
        sender_name=reporter,
        subject=subject,
        body=body,
        date=when,
        charset=charset,
        attachments=attachments,
        message_id=f"<bench-{rng.getrandbits(64):016x}@{unit.officers[0].split('@')[1]}>",
    )


def corpus(n: int, seed: int = 42) -> list[bytes]:
    """`n` submissions (deterministic for a seed), cached in bench/out/ because 10k take ~30 s to build."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"corpus-{n}-{seed}.pickle"
    if path.exists():
        with path.open("rb") as f:
            cached: list[bytes] = pickle.load(f)
        return cached
    rng = random.Random(seed)
    units = officer_units()
    # Dated over the last few hours so intake keeps each mail's own Date (it must be < 7 days old);
    # an older cached corpus is still filed, at the time of the run.
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)
    docx_cache: dict[int, bytes] = {}
    raws = [
        make_mail(rng, units, start + dt.timedelta(seconds=2 * i), docx_cache=docx_cache) for i in range(n)
    ]
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(raws, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.rename(path)
    return raws


# -- servers ------------------------------------------------------------------------------


@contextmanager
def mail_servers() -> Iterator[tuple[object, object]]:
    """A Dovecot and an aiosmtpd capture on loopback for the whole bench run (tests/servers.py)."""
    from tests.servers import Dovecot, SmtpCapture

    dovecot = Dovecot()
    smtp = SmtpCapture()
    try:
        dovecot.start()
        smtp.start()
        yield dovecot, smtp
    finally:
        smtp.stop()
        dovecot.cleanup()


def bench_env() -> dict[str, str]:
    """The environment for subprocesses: the repo importable, no stray MAILBOT_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# -- the machine ----------------------------------------------------------------------------


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pkgs = [
        "imapclient",
        "mail-parser",
        "sqlmodel",
        "sqlalchemy",
        "psycopg",
        "aiosmtpd",
        "aiosmtplib",
        "jinja2",
        "openpyxl",
    ]
    versions = []
    for p in pkgs:
        try:
            versions.append(f"{p} {importlib.metadata.version(p)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{p} -")
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{os.cpu_count()} × {cpu}",
        "ram": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "dovecot": _version(["dovecot", "--version"]),
        "postgresql": _version(["/usr/lib/postgresql/15/bin/postgres", "--version"]),
        "sqlite": sqlite3.sqlite_version,
        "packages": ", ".join(versions),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


# -- output -----------------------------------------------------------------------------------


def fmt(value: float | None, unit: str = "") -> str:
    """A figure with sensible precision."""
    if value is None:
        return "—"
    if unit in {"%"}:
        return f"{value:.1f}%"
    a = abs(value)
    text = (
        f"{value:,.0f}"
        if a >= 100
        else f"{value:.1f}"
        if a >= 10
        else f"{value:.2f}"
        if a >= 0.1
        else f"{value:.3f}"
    )
    return f"{text} {unit}".rstrip()


def table(sections: Sequence[Section]) -> str:
    """The results as a Markdown table (also readable in a terminal)."""
    lines = ["| bench | metric | ours | baseline | ours ÷ baseline | runs |", "|---|---|---|---|---|---|"]
    for sec in sections:
        if sec.skipped:
            lines.append(f"| {sec.name} | {sec.skipped} | | | | |")
            continue
        for r in sec.rows:
            ratio = f"{r.ratio:.2f}" if r.ratio is not None else ""
            runs = ", ".join(fmt(x) for x in r.runs)
            metric = r.metric + (f" ({r.note})" if r.note else "")
            lines.append(
                f"| {r.bench} | {metric} | {fmt(r.ours, r.unit)} | {fmt(r.baseline, r.unit)} | {ratio} | {runs} |"
            )
    return "\n".join(lines)


def log(message: str) -> None:
    """Progress on stderr, so stdout stays the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
