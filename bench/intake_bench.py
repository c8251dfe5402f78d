"""Backlog intake: N mails waiting in INBOX → every one filed, receipts queued, moved out.

Ours is `intake.poll_once` on an imap:// config, run in a worker subprocess so
its peak RSS is its own. The baseline, measured on the same mailbox in the same
run, is the least any client must do: fetch every body with imapclient in
batches of 100 (`BODY.PEEK[]`) and parse it with mail-parser — no archive, no
database, no move. Their ratio is how much of the physical limit we reach.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import REPO, Row, Section, Size, corpus, log, median
from tests.office import Office

BATCH = 100


def db_counts(url: str) -> dict[str, Any]:
    """Messages by disposition, items by status, outbox rows by kind, and duplicate filings."""
    from sqlalchemy import func
    from sqlmodel import select

    from mailbot.shell.db.models import Item, MessageRow, OutboxRow
    from mailbot.shell.db.store import make_engine, session_scope

    engine = make_engine(url)
    try:
        with session_scope(engine) as s:
            disp = {
                str(k): int(v)
                for k, v in s.exec(
                    select(MessageRow.disposition, func.count()).group_by(MessageRow.disposition)
                ).all()
            }
            status = {
                str(k): int(v)
                for k, v in s.exec(select(Item.status, func.count()).group_by(Item.status)).all()
            }
            kinds = {
                str(k): int(v)
                for k, v in s.exec(select(OutboxRow.kind, func.count()).group_by(OutboxRow.kind)).all()
            }
            dup_mid = s.exec(
                select(func.count()).select_from(
                    select(MessageRow.message_id)
                    .group_by(MessageRow.message_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            ).one()
            dup_receipts = s.exec(
                select(func.count()).select_from(
                    select(OutboxRow.item_id)
                    .where(OutboxRow.kind == "receipt")
                    .group_by(OutboxRow.item_id)
                    .having(func.count() > 1)
                    .subquery()
                )
            ).one()
    finally:
        engine.dispose()
    return {
        "messages": disp,
        "items": status,
        "outbox": kinds,
        "duplicate_message_ids": int(dup_mid),
        "duplicate_receipts": int(dup_receipts),
    }


class _Profiler:
    """pyinstrument (a sampling wall-clock profiler, low overhead) when installed, else cProfile."""

    def __init__(self) -> None:
        try:
            from pyinstrument import Profiler
        except ImportError:
            import cProfile

            self.kind = "cProfile"
            self.p: Any = cProfile.Profile()
            self.p.enable()
        else:
            self.kind = "pyinstrument"
            self.p = Profiler(interval=0.001)
            self.p.start()

    def write(self, path: Path) -> None:
        """Stop and write a text report to `path`."""
        if self.kind == "pyinstrument":
            self.p.stop()
            path.write_text(self.p.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
            return
        import io
        import pstats

        self.p.disable()
        out = io.StringIO()
        pstats.Stats(self.p, stream=out).sort_stats("cumulative").print_stats(40)
        path.write_text(out.getvalue(), encoding="utf-8")


def worker(config: str, profile: str | None = None) -> dict[str, Any]:
    """One `poll_once` pass in this process; the figures `run` needs, as a dict."""
    import logging

    from mailbot.app.context import Runtime
    from mailbot.app.intake import poll_once
    from mailbot.shell.config import load_config

    logging.basicConfig(level=logging.WARNING)
    rt = Runtime(load_config(Path(config)))
    rt.engine  # noqa: B018  (migrations and unit sync are start-up, not intake)
    rt.mailbox.uidvalidity  # noqa: B018  (log in before the clock starts, like a running daemon)
    profiler: Any = None
    if profile:
        profiler = _Profiler()
    start = time.time()
    report = poll_once(rt)
    end = time.time()
    if profiler is not None and profile:
        profiler.write(Path(profile))
    rt.close()
    return {
        "start": start,
        "end": end,
        "seconds": end - start,
        "handled": report.total,
        "counts": report.counts,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def spawn(config: Path, env: dict[str, str], profile: Path | None = None) -> subprocess.Popen[str]:
    """Start a worker subprocess (`python -m bench.intake_bench worker CONFIG`)."""
    cmd = [sys.executable, "-m", "bench.intake_bench", "worker", str(config)]
    if profile is not None:
        cmd += ["--profile", str(profile)]
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def collect(proc: subprocess.Popen[str], timeout: float = 3600) -> dict[str, Any]:
    """The worker's JSON result; raises with its stderr when it failed."""
    out, err = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"intake worker exited {proc.returncode}:\n{err[-4000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def baseline(host: str, port: int, user: str, password: str) -> tuple[float, int]:
    """Fetch + parse every INBOX mail, touching what intake reads; (seconds, mails)."""
    import mailparser
    from imapclient import IMAPClient

    t0 = time.perf_counter()
    n = 0
    with IMAPClient(host, port=port, ssl=False) as c:
        c.login(user, password)
        c.select_folder("INBOX", readonly=True)
        uids = sorted(c.search(["ALL"]))
        for i in range(0, len(uids), BATCH):
            data = c.fetch(uids[i : i + BATCH], ["BODY.PEEK[]"])
            for uid in uids[i : i + BATCH]:
                mail = mailparser.parse_from_bytes(bytes(data[uid][b"BODY[]"]))
                _ = (mail.subject, mail.from_, mail.body, mail.attachments, mail.message_id)
                n += 1
    return time.perf_counter() - t0, n


@dataclass(frozen=True, slots=True)
class Prepared:
    """A seeded mailbox and the office config that reads it."""

    office: Office
    address: str
    password: str


def prepare(
    dovecot: Any, smtp: Any, raws: list[bytes], root: Path, database_url: str | None = None
) -> Prepared:
    """A fresh mailbox holding `raws` and an office config pointing at it."""
    from tests.office import make_office

    address, password = dovecot.add_user()
    dovecot.seed(address, raws)
    office = make_office(
        root,
        mailbox_url=dovecot.url_for(address),
        smtp_url=smtp.url,
        imap_password=password,
        database_url=database_url,
    )
    # Let Dovecot index the seeded Maildir before anyone's clock runs.
    from imapclient import IMAPClient

    with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
        c.login(address, password)
        c.select_folder("INBOX", readonly=True)
        c.search(["ALL"])
    return Prepared(office, address, password)


def folder_counts(dovecot: Any, address: str, password: str) -> dict[str, int]:
    """Messages per folder of one account."""
    from imapclient import IMAPClient

    out: dict[str, int] = {}
    with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
        c.login(address, password)
        for flags, _sep, name in c.list_folders():
            if b"\\Noselect" in flags or b"\\NonExistent" in flags:
                continue
            try:
                out[str(name)] = int(c.folder_status(name, ["MESSAGES"])[b"MESSAGES"])
            except c.Error:
                continue
    return out


def run(size: Size, runs: int, dovecot: Any, smtp: Any) -> Section:
    """Backlog intake vs fetch+parse, `runs` times each, plus peak RSS at two backlog sizes."""
    sec = Section("intake", f"Backlog intake of {size.intake:,} mails")
    raws = corpus(size.intake)
    total_mb = sum(len(r) for r in raws) / 1e6
    ours: list[float] = []
    base: list[float] = []
    rss: list[float] = []
    last: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp:
        for i in range(runs):
            p = prepare(dovecot, smtp, raws, Path(tmp) / f"run{i}")
            secs, n = baseline(dovecot.host, dovecot.imap_port, p.address, p.password)
            base.append(n / secs)
            log(f"intake run {i + 1}/{runs}: baseline {n / secs:,.0f} mails/s")
            result = collect(spawn(p.office.config, p.office.env))
            ours.append(result["handled"] / result["seconds"])
            rss.append(result["peak_rss_mb"])
            log(f"intake run {i + 1}/{runs}: ours {ours[-1]:,.1f} mails/s, {result['counts']}")
            last = {
                "worker": result,
                "db": db_counts(f"sqlite:///{p.office.root / 'var' / 'mailbot.db'}"),
                "folders": folder_counts(dovecot, p.address, p.password),
            }
        p = prepare(dovecot, smtp, raws[: size.rss_small], Path(tmp) / "rss-small")
        small = collect(spawn(p.office.config, p.office.env))
    sec.rows.append(
        Row(
            "intake",
            f"{size.intake:,} mails, filed + receipts queued",
            median(ours),
            median(base),
            "mails/s",
            tuple(ours),
            "baseline: fetch(100) + mail-parser",
        )
    )
    sec.rows.append(
        Row(
            "intake",
            "time for the whole backlog",
            size.intake / median(ours),
            size.intake / median(base),
            "s",
        )
    )
    sec.rows.append(
        Row("intake", f"peak RSS of the worker at {size.rss_small:,} mails", small["peak_rss_mb"], unit="MB")
    )
    sec.rows.append(
        Row(
            "intake",
            f"peak RSS of the worker at {size.intake:,} mails",
            median(rss),
            unit="MB",
            runs=tuple(rss),
        )
    )
    db = last["db"]
    sec.notes.append(
        f"Corpus: {size.intake:,} mails, {total_mb:.1f} MB (seed 42; 30% GBK, 10% with a .docx, 5% with a 50 KB photo). "
        f"Last run: messages by disposition {db['messages']}, items by status {db['items']}, "
        f"outbox rows by kind {db['outbox']}, folders {last['folders']}."
    )
    return sec


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.intake_bench worker CONFIG [--profile OUT]` (used by the bench itself)."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("worker")
    w.add_argument("config")
    w.add_argument("--profile")
    args = parser.parse_args(argv)
    print(json.dumps(worker(args.config, args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
