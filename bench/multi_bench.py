"""Two daemons on PostgreSQL vs one on SQLite, draining the same backlog.

SPEC §7: offices that run several daemons use PostgreSQL, and then no message
may be processed twice. Two `poll --once`-style workers start together on one
mailbox and one database; afterwards every mail must be filed exactly once
(one message row, one item, one receipt each) and the inbox must be empty.
Wall time runs from the first worker's start to the last one's end. One
worker on PostgreSQL is measured too, to separate the database from the
parallelism.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.common import Row, Section, Size, corpus, log, median
from bench.intake_bench import collect, db_counts, folder_counts, prepare, spawn


def _check(n: int, db: dict[str, Any], folders: dict[str, int], handled: int) -> list[str]:
    """What is wrong with the result (empty when every mail was filed exactly once)."""
    problems = []
    rows = sum(db["messages"].values())
    if rows != n:
        problems.append(f"{rows} message rows for {n} mails")
    items = sum(db["items"].values())
    if items != db["messages"].get("item", 0):
        problems.append(f"{items} items for {db['messages'].get('item', 0)} messages filed as items")
    if db["duplicate_message_ids"]:
        problems.append(f"{db['duplicate_message_ids']} Message-IDs filed more than once")
    if db["duplicate_receipts"]:
        problems.append(f"{db['duplicate_receipts']} items with more than one receipt")
    if db["outbox"].get("receipt", 0) != db["messages"].get("item", 0):
        problems.append(
            f"{db['outbox'].get('receipt', 0)} receipts for {db['messages'].get('item', 0)} items"
        )
    if folders.get("INBOX", 0):
        problems.append(f"{folders['INBOX']} mails left in INBOX")
    moved = sum(v for k, v in folders.items() if k.startswith("mailbot"))
    if moved != n:
        problems.append(f"{moved} mails in the mailbot folders for {n}")
    if handled < n:
        problems.append(f"workers handled {handled} mails of {n}")
    return problems


def _round(
    dovecot: Any, smtp: Any, raws: list[bytes], root: Path, url: str | None, workers: int
) -> dict[str, Any]:
    p = prepare(dovecot, smtp, raws, root, database_url=url)
    # Migrate and sync units first, so both workers start on an existing schema.
    from mailbot.app.context import Runtime
    from mailbot.shell.config import load_config

    rt = Runtime(load_config(p.office.config))
    rt.engine  # noqa: B018
    rt.close()
    procs = [spawn(p.office.config, p.office.env) for _ in range(workers)]
    results = [collect(proc) for proc in procs]
    db_url = url or f"sqlite:///{p.office.root / 'var' / 'mailbot.db'}"
    db = db_counts(db_url)
    folders = folder_counts(dovecot, p.address, p.password)
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    handled = sum(r["handled"] for r in results)
    return {"wall": wall, "db": db, "folders": folders, "problems": _check(len(raws), db, folders, handled),
            "per_worker": [r["counts"] for r in results]}  # fmt: skip


def run(size: Size, runs: int, dovecot: Any, smtp: Any) -> Section:
    """Wall time of 1 worker on SQLite, 1 and 2 workers on PostgreSQL; exactly-once checked each time."""
    from tests.pg import Postgres, pg_bin

    sec = Section("multi", f"Two daemons on PostgreSQL, {size.multi:,} mails")
    if pg_bin() is None:
        sec.skipped = "skipped: PostgreSQL not installed (apt-get install -y postgresql)"
        return sec
    raws = corpus(size.multi)
    pg = Postgres()
    pg.start()
    walls: dict[str, list[float]] = {"sqlite-1": [], "pg-1": [], "pg-2": []}
    try:
        with tempfile.TemporaryDirectory(prefix="mailbot-multi-") as tmp:
            for i in range(runs):
                for key, workers in (("sqlite-1", 1), ("pg-1", 1), ("pg-2", 2)):
                    url = (
                        None
                        if key.startswith("sqlite")
                        else pg.create_database(f"run{i}_{key.replace('-', '_')}")
                    )
                    r = _round(dovecot, smtp, raws, Path(tmp) / f"{key}-{i}", url, workers)
                    walls[key].append(r["wall"])
                    log(f"multi run {i + 1}/{runs} {key}: {r['wall']:.1f} s, per worker {r['per_worker']}")
                    if r["problems"]:
                        sec.notes.append(f"**{key}, run {i + 1}: NOT exactly once** — {'; '.join(r['problems'])}. "
                                         f"messages {r['db']['messages']}, items {r['db']['items']}, "
                                         f"outbox {r['db']['outbox']}, folders {r['folders']}")  # fmt: skip
                    elif key == "pg-2":
                        sec.notes.append(
                            f"pg-2, run {i + 1}: every mail filed exactly once — messages {r['db']['messages']}, "
                            f"items {r['db']['items']}, outbox {r['db']['outbox']}; split between the workers "
                            f"{r['per_worker']}."
                        )
    finally:
        pg.cleanup()
    n = size.multi
    base = median(walls["sqlite-1"])
    sec.rows.append(Row("multi", "1 worker, SQLite: wall time", base, base, "s", tuple(walls["sqlite-1"])))
    sec.rows.append(Row("multi", "1 worker, PostgreSQL: wall time", median(walls["pg-1"]), base, "s", tuple(walls["pg-1"]),
                        "baseline: 1 worker on SQLite"))  # fmt: skip
    sec.rows.append(Row("multi", "2 workers, PostgreSQL: wall time", median(walls["pg-2"]), base, "s", tuple(walls["pg-2"]),
                        "baseline: 1 worker on SQLite"))  # fmt: skip
    sec.rows.append(
        Row("multi", "2 workers, PostgreSQL: throughput", n / median(walls["pg-2"]), n / base, "mails/s")
    )
    return sec
