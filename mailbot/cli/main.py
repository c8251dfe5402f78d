"""The `mailbot` command line (SPEC §8). `--json` output is a contract; exit codes 0/1/2.

Commands stay thin: they open the runtime, call one function of the core or
the shell, and print. Commands that cause mail queue it in the outbox and try
to deliver it before they exit, so a cron job of `poll --once` is a whole deployment.
"""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlmodel import col, select

from mailbot.app.context import Runtime
from mailbot.core.errors import ConfigError, MailbotError
from mailbot.shell.config import config_path, load_config

app = typer.Typer(no_args_is_help=True, add_completion=False, help="mailbot: 政务信息报送 over email.")
items_app = typer.Typer(no_args_is_help=True, help="Filed items.")
messages_app = typer.Typer(no_args_is_help=True, help="Every mail received.")
units_app = typer.Typer(no_args_is_help=True, help="Reporting units.")
app.add_typer(items_app, name="items")
app.add_typer(messages_app, name="messages")
app.add_typer(units_app, name="units")

ConfigOpt = Annotated[
    str | None,
    typer.Option("-c", "--config", help="config file (default $MAILBOT_CONFIG, else config/mailbot.toml)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output (stable)")]
T = TypeVar("T")
log = logging.getLogger("mailbot")


def _me() -> str:
    """The command as this user can type it (.venv/bin/mailbot when the venv is not activated)."""
    import shutil

    return "mailbot" if shutil.which("mailbot") else sys.argv[0]


def _fail(code: int, message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


@contextmanager
def runtime(config: str | None) -> Iterator[Runtime]:
    """Load the config and open the runtime; configuration errors exit 2, other failures 1."""
    try:
        cfg = load_config(config_path(config))
        rt = Runtime(cfg)
        rt.engine  # noqa: B018  (opens, migrates and syncs units; config errors surface here)
    except ConfigError as exc:
        raise _fail(2, f"配置错误 configuration error: {exc.file}: {exc.key}: {exc.problem}") from exc
    try:
        yield rt
    except ConfigError as exc:
        raise _fail(2, f"配置错误 configuration error: {exc.file}: {exc.key}: {exc.problem}") from exc
    except MailbotError as exc:
        raise _fail(1, f"error: {exc}") from exc
    finally:
        rt.close()


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows aligned for a terminal, counting CJK characters as two columns."""
    cells = [[("" if v is None else str(v)) for v in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    for r in [list(headers), *cells]:
        typer.echo("  ".join(v + " " * (w - _width(v)) for v, w in zip(r, widths, strict=True)).rstrip())


def _dump(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _deliver(rt: Runtime) -> None:
    from mailbot.shell.outbox import deliver

    sent = deferred = dead = 0
    try:
        while True:
            report = deliver(rt.engine, rt.transport)
            sent, deferred, dead = sent + report.sent, deferred + report.deferred, dead + report.dead
            if report.deferred or not (report.sent or report.dead):
                break
    except MailbotError as exc:
        typer.echo(f"outbox: not delivered now ({exc}); queued mail stays in the outbox", err=True)
        return
    if sent or deferred or dead:
        typer.echo(f"outbox: sent {sent}, deferred {deferred}, refused {dead}", err=True)


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate the config, units and scoring rules; exit 2 naming the file and key on error."""
    try:
        cfg = load_config(config_path(config))
        from mailbot.core.scoring.rules import load_rules
        from mailbot.core.submission.units import load_units

        units = load_units(cfg.resolve(cfg.units.file))
        rules = load_rules(cfg.resolve(cfg.scoring.file))
    except ConfigError as exc:
        raise _fail(2, f"配置错误 configuration error: {exc.file}: {exc.key}: {exc.problem}") from exc
    typer.echo(f"config  {cfg.path}")
    typer.echo(f"mailbox {cfg.mailbox.url}")
    typer.echo(f"smtp    {cfg.smtp.url}")
    typer.echo(f"db      {cfg.database_url.split('@')[-1]}")
    typer.echo(f"units   {len(units)} in series {', '.join(units.series())}")
    typer.echo(
        f"rules   {len(rules.rulesets)} rule set(s), year starts {rules.calendar.year_start_month:02d}-"
        f"{rules.calendar.year_start_day:02d}"
    )
    typer.echo("ok")


@app.command()
def poll(
    once: Annotated[bool, typer.Option("--once", help="one ingestion pass, then exit")] = False,
    config: ConfigOpt = None,
) -> None:
    """One ingestion pass over the mailbox, then deliver what it queued."""
    if not once:
        raise _fail(2, "poll needs --once (the daemon is `mailbot run`)")
    from mailbot.app.intake import poll_once

    with runtime(config) as rt:
        report = poll_once(rt)
        from mailbot.daemon import set_setting

        set_setting(rt, "last_poll", rt.now().isoformat())
        parts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no new mail"
        typer.echo(f"poll: {report.total} mail: {parts}")
        _deliver(rt)
        if report.counts.get("failed"):
            raise typer.Exit(1)


def _item_rows(rt: Runtime, status: str | None, unit: str | None, period: str | None) -> list[dict[str, Any]]:
    from mailbot.app.scorebook import Scorebook
    from mailbot.cli.views import item_summary
    from mailbot.shell.db.models import Item, MessageRow
    from mailbot.shell.db.store import session_scope

    with session_scope(rt.engine) as s:
        q = select(Item)
        if status:
            q = q.where(Item.status == status)
        if unit:
            u = rt.directory().get(unit) or rt.directory().match(unit)
            q = q.where(Item.unit_id == (u.id if u else unit))
        if period:
            p = Scorebook(rt, s).period(period)
            q = q.where(
                col(Item.received_at) >= p.start.astimezone(dt.UTC),
                col(Item.received_at) < p.end.astimezone(dt.UTC),
            )
        items = s.exec(q.order_by(col(Item.received_at), col(Item.id))).all()
        reasons = {
            m.item_id: m.reason
            for m in s.exec(
                select(MessageRow).where(col(MessageRow.item_id).in_([i.id for i in items]))
            ).all()
            if m.disposition in ("refused", "quarantined", "item")
        }
        book = Scorebook(rt, s)
        return [
            item_summary(i, score=book.item_points(i.id), reason=reasons.get(i.id), tz=rt.config.tz)
            for i in items
        ]


@items_app.command("list")
def items_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, adopted, rejected, superseded, refused, quarantined"),
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="unit id or name")] = None,
    period: Annotated[str | None, typer.Option("--period", help="2026-10 | 2026-Q1 | 2026")] = None,
    as_json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """List items (refused and quarantined submissions included, with their reason)."""
    with runtime(config) as rt:
        rows = _item_rows(rt, status, unit, period)
    if as_json:
        _dump([{k: r[k] for k in r if k != "from"} for r in rows])
        return
    print_table(
        ["编号", "状态", "单位", "标题", "收到", "得分", "标记"],
        [
            [
                r["id"],
                r["status"],
                r["unit_name"],
                _clip(r["title"], 28),
                (r["received_at"] or "")[:16],
                f"{r['score']:g}" if r["score"] is not None else "",
                "、".join(r["flags"]),
            ]
            for r in rows
        ],
    )
    typer.echo(f"{len(rows)} item(s)")


def _clip(text: str, width: int) -> str:
    out, w = "", 0
    for c in text:
        w += _width(c)
        if w > width:
            return out + "…"
        out += c
    return out


@items_app.command("show")
def items_show(item_id: str, as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """One item with its fields, text, attachments and decisions."""
    from mailbot.app.scorebook import Scorebook
    from mailbot.cli.views import item_detail
    from mailbot.shell.db.models import AttachmentRow, EventRow, Item, MessageRow
    from mailbot.shell.db.store import session_scope

    with runtime(config) as rt, session_scope(rt.engine) as s:
        item = s.get(Item, item_id)
        if item is None:
            raise _fail(1, f"no item {item_id}")
        atts = list(s.exec(select(AttachmentRow).where(AttachmentRow.item_id == item_id)).all())
        evs = list(
            s.exec(select(EventRow).where(EventRow.item_id == item_id).order_by(col(EventRow.id))).all()
        )
        msg = s.get(MessageRow, item.message_row_id)
        book = Scorebook(rt, s)
        points = book.event_points(item_id)
        data = item_detail(
            item,
            score=book.item_points(item_id),
            reason=msg.reason if msg else None,
            attachments=atts,
            events=[(e, points.get(e.id or 0)) for e in evs],
            tz=rt.config.tz,
        )
    if as_json:
        _dump(data)
        return
    for key in ("id", "status", "unit_name", "received_at", "score", "flags", "reason"):
        typer.echo(f"{key:12} {data[key]}")
    for k, v in data["fields"].items():
        typer.echo(f"{k:10}　{v}")
    if data["attachments"]:
        typer.echo(f"attachments  {', '.join(data['attachments'])}")
    typer.echo("")
    typer.echo(data["text"])
    if data["events"]:
        typer.echo("")
        print_table(
            ["时间", "审核人", "指令", "得分"],
            [
                [e["at"][:16], e["by"], e["command"], "" if e["points"] is None else e["points"]]
                for e in data["events"]
            ],
        )


@messages_app.command("list")
def messages_list(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Every mail ever received, with what became of it."""
    from mailbot.cli.views import message_summary
    from mailbot.shell.db.models import MessageRow
    from mailbot.shell.db.store import session_scope

    with runtime(config) as rt, session_scope(rt.engine) as s:
        rows = [
            message_summary(m, tz=rt.config.tz)
            for m in s.exec(
                select(MessageRow).order_by(col(MessageRow.received_at), col(MessageRow.id))
            ).all()
        ]
    if as_json:
        _dump(rows)
        return
    print_table(
        ["收到", "发件人", "去向", "信息", "主题", "原因"],
        [
            [
                (r["received_at"] or "")[:16],
                r["from"],
                r["disposition"],
                r["item"] or "",
                _clip(r["subject"], 30),
                _clip(r["reason"] or "", 40),
            ]
            for r in rows
        ],
    )
    typer.echo(f"{len(rows)} mail")


@units_app.command("list")
def units_list(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """The registered units with their series, parent and officers."""
    with runtime(config) as rt:
        units = rt.directory().units
    data: list[dict[str, Any]] = [
        {
            "id": u.id,
            "name": u.name,
            "short": u.short,
            "aliases": list(u.aliases),
            "series": u.series,
            "parent": u.parent,
            "parents": list(u.parents),
            "officers": list(u.officers),
            "bulletin_to": list(u.bulletin_to),
        }
        for u in units
    ]
    if as_json:
        _dump(data)
        return
    print_table(
        ["id", "单位", "序列", "上级", "信息员"],
        [[d["id"], d["name"], d["series"], "、".join(d["parents"]), ", ".join(d["officers"])] for d in data],
    )


@units_app.command("import")
def units_import(file: Path, config: ConfigOpt = None) -> None:
    """Add or update units from a units.toml-style file (or .csv with the same columns)."""
    from mailbot.core.submission.units import load_units, units_from_csv
    from mailbot.shell.db.store import session_scope, sync_units

    with runtime(config) as rt:
        try:
            directory = units_from_csv(file) if file.suffix.lower() == ".csv" else load_units(file)
        except ConfigError as exc:
            raise _fail(2, f"{exc.file}: {exc.key}: {exc.problem}") from exc
        with session_scope(rt.engine) as s:
            sync_units(s, directory)
    typer.echo(f"imported {len(directory)} unit(s) from {file}")


@app.command()
def decide(
    item_id: str,
    command: Annotated[
        list[str], typer.Argument(help="the decision as a reviewer would write it, e.g. 采用 穗府信息 标题")
    ],
    by: Annotated[str, typer.Option("--by", help="who decided (address)")] = "cli",
    at: Annotated[
        str | None, typer.Option("--at", help="when it was decided (ISO time; office time zone if no offset)")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Record a decision that arrived on paper, through the same path as a reply mail."""
    from mailbot.app.review import apply_decisions, describe
    from mailbot.core.errors import CommandError
    from mailbot.core.review.replies import parse_commands
    from mailbot.shell.db.models import Item
    from mailbot.shell.db.store import session_scope

    with runtime(config) as rt:
        when = rt.now()
        if at:
            try:
                when = dt.datetime.fromisoformat(at)
            except ValueError as exc:
                raise _fail(2, f"--at: not an ISO 8601 time: {at!r}") from exc
            if when.tzinfo is None:
                when = when.replace(tzinfo=rt.config.tz)
        text = " ".join(command)
        try:
            decisions = parse_commands(text, rt.vocabulary())
        except CommandError as exc:
            raise _fail(2, f"无法识别的指令 unknown command: {exc.detail}") from exc
        with session_scope(rt.engine) as s:
            item = s.get(Item, item_id)
            if item is None or item.id.startswith("R"):
                raise _fail(1, f"no item {item_id}")
            applied = apply_decisions(rt, s, item, decisions, by=by, at=when, sources=[text])
            from mailbot.app.scorebook import item_points

            points = item_points(rt, s, item.id)
        typer.echo(
            f"{item_id}: {'；'.join(describe(d) for d in decisions)} → {applied.new_status}"
            + (f", {points:g} 分" if points is not None else "")
        )
        _deliver(rt)


@app.command()
def scores(
    period: Annotated[str, typer.Option("--period", help="2026-10 | 2026-Q1 | 2026")],
    as_json: JsonOpt = False,
    explain: Annotated[
        str | None,
        typer.Option("--explain", help="unit id or name: list every item and event behind its score"),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Scores of every unit for an assessment period, ranked within each series."""
    from mailbot.app.scorebook import Scorebook, as_number
    from mailbot.core.scoring.periods import PeriodError
    from mailbot.core.scoring.scores import format_points
    from mailbot.shell.db.store import session_scope

    with runtime(config) as rt, session_scope(rt.engine) as s:
        book = Scorebook(rt, s)
        try:
            p = book.period(period)
        except PeriodError as exc:
            raise _fail(2, f"--period: {exc}") from exc
        if explain:
            unit = rt.directory().get(explain) or rt.directory().match(explain)
            if unit is None:
                raise _fail(2, f"--explain: no unit {explain!r}")
            lines = book.explain(unit.id, p)
            if as_json:
                _dump(
                    [
                        {
                            "unit": ln.unit_id,
                            "item": ln.item_id,
                            "title": ln.title,
                            "command": ln.command,
                            "at": ln.at.astimezone(rt.config.tz).isoformat(),
                            "by": ln.by,
                            "points": as_number(ln.points),
                            "rule": ln.rule,
                        }
                        for ln in lines
                    ]
                )
                return
            typer.echo(f"{unit.name}（{unit.series}）{p.label}")
            print_table(
                ["时间", "信息", "标题", "决定", "得分", "依据"],
                [
                    [
                        ln.at.astimezone(rt.config.tz).strftime("%Y-%m-%d %H:%M"),
                        ln.item_id or "",
                        _clip(ln.title, 24),
                        ln.command,
                        format_points(ln.points),
                        ln.rule,
                    ]
                    for ln in lines
                ],
            )
            total = sum((ln.points for ln in lines), start=__import__("decimal").Decimal(0))
            typer.echo(f"合计 {format_points(total)} 分")
            return
        rows = book.rows(p)
    data = [
        {
            "unit": r.unit_id,
            "unit_name": r.unit_name,
            "series": r.series,
            "submitted": r.submitted,
            "adopted": r.adopted,
            "score": as_number(r.score),
            "cumulative": as_number(r.cumulative),
            "target": as_number(r.target),
            "completion": as_number(r.completion),
            "rank": r.rank,
            "adoption_rate": as_number(r.adoption_rate),
        }
        for r in rows
    ]
    if as_json:
        _dump(data)
        return
    print_table(
        ["序列", "排名", "单位", "报送", "采用", "本期得分", "累计得分", "年度指标", "完成率"],
        [
            [
                d["series"],
                d["rank"],
                d["unit_name"],
                d["submitted"],
                d["adopted"],
                d["score"],
                d["cumulative"],
                "" if d["target"] is None else d["target"],
                "" if d["completion"] is None else f"{float(d['completion']) * 100:.0f}%",
            ]
            for d in data
        ],
    )


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="where the demo office lives")] = Path("demo"),
    reset: Annotated[bool, typer.Option("--reset", help="wipe --dir first if it exists")] = False,
    month: Annotated[
        str | None, typer.Option("--month", help="YYYY-MM to simulate (default: last month)")
    ] = None,
) -> None:
    """A month at a small office, end to end, with no servers: Maildir in, SQLite, .eml files out."""
    from mailbot.demo.run import run_demo

    try:
        result = run_demo(directory.resolve(), reset=reset, month=month, say=typer.echo)
    except FileExistsError as exc:
        raise _fail(2, str(exc)) from exc
    cfg = result.config
    me = _me()
    typer.echo("")
    typer.echo("Look around:")
    typer.echo(f"  {me} items list -c {cfg}")
    typer.echo(f"  {me} messages list -c {cfg}")
    typer.echo(f"  {me} scores --period {result.period} -c {cfg}")
    typer.echo(f"  {me} scores --period {result.period} --explain QX01 -c {cfg}")
    typer.echo("  the bulletin:")
    for path in result.bulletin_files:
        typer.echo(f"    {path}")
    typer.echo(
        f"  every mail mailbot sent (receipts, review requests, notices, bulletins) as .eml: {result.outbox_dir}"
    )


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="folder for the new office's config (created if missing)")
    ],
    office: Annotated[
        str | None, typer.Option("--office", help="the office's name, e.g. 某某市人民政府办公室")
    ] = None,
    profile: Annotated[
        str, typer.Option("--profile", help="scoring rules to start from: guangzhou, county or city")
    ] = "guangzhou",
) -> None:
    """Write a commented starting config (mailbot.toml, units.toml, scoring.toml); never overwrites."""
    from mailbot.cli.init import init_office

    try:
        written = init_office(directory, office=office, profile=profile)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        raise _fail(2, f"mailbot init: {exc}") from exc
    for path in written:
        typer.echo(f"wrote {path}")
    config = written[0]
    typer.echo("")
    typer.echo("Next:")
    typer.echo(f"  edit {config} (mailbox, smtp, office, reviewers) and {written[1]} (units, officers)")
    me = _me()
    typer.echo(f"  {me} check-config -c {config}")
    typer.echo(f"  {me} poll --once -c {config}     # or: mailbot run -c {config}")


@app.command()
def bulletin(
    period: Annotated[str, typer.Option("--period", help="2026-10 | 2026-Q1 | 2026")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="print what would be sent to whom")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="write .html, .txt, .xlsx and .eml files here")
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="send every unit its copy (exactly once)")] = False,
    config: ConfigOpt = None,
) -> None:
    """The 《政务信息工作通报》 for a period: preview, write to files, or send to every unit."""
    from mailbot.app import publish
    from mailbot.core.bulletin.content import bulletin_title
    from mailbot.core.scoring.periods import PeriodError, parse_period

    if sum([dry_run, out is not None, send]) != 1:
        raise _fail(2, "bulletin needs exactly one of --dry-run, --out DIR, --send")
    with runtime(config) as rt:
        try:
            p = parse_period(period, rt.rules.calendar)
        except PeriodError as exc:
            raise _fail(2, f"--period: {exc}") from exc
        if dry_run:
            data, planned = publish.dry_run(rt, p)
            typer.echo(
                f"{bulletin_title(data)}: {len(planned)} mail to {len({x.unit_id for x in planned})} units"
            )
            print_table(
                ["单位", "收件人", "本期得分", "排名"],
                [
                    [
                        x.unit_name,
                        x.address,
                        *next((str(r.score), str(r.rank)) for r in data.rows if r.unit_id == x.unit_id),
                    ]
                    for x in planned
                ],
            )
            return
        if out is not None:
            for path in publish.write_out(rt, p, out):
                typer.echo(f"wrote {path}")
            return
        data, queued = publish.issue(rt, p)
        typer.echo(f"{bulletin_title(data)}: {queued} copies queued")
        _deliver(rt)
        typer.echo(f"sent so far: {publish.sent_for(rt, p.label)}")


yuegao_app = typer.Typer(no_args_is_help=True, help="Commissioned requests (约稿).")
app.add_typer(yuegao_app, name="yuegao")


@yuegao_app.command("new")
def yuegao_new(
    title: Annotated[str, typer.Option("--title", help="what is asked for")],
    due: Annotated[str, typer.Option("--due", help="YYYY-MM-DD, last day (office time)")],
    units: Annotated[str | None, typer.Option("--units", help="unit ids, comma-separated")] = None,
    series: Annotated[str | None, typer.Option("--series", help="every unit of this series")] = None,
    text_file: Annotated[Path | None, typer.Option("--text-file", help="the request's text")] = None,
    config: ConfigOpt = None,
) -> None:
    """Mail a numbered request (约稿#N) to the chosen units' officers."""
    from mailbot.app.commission import new_request
    from mailbot.shell.db.store import session_scope

    if (units is None) == (series is None):
        raise _fail(2, "yuegao new needs exactly one of --units or --series")
    try:
        due_date = dt.date.fromisoformat(due)
    except ValueError as exc:
        raise _fail(2, f"--due: not a date YYYY-MM-DD: {due!r}") from exc
    text = text_file.read_text(encoding="utf-8") if text_file else ""
    with runtime(config) as rt:
        directory = rt.directory()
        if units is not None:
            chosen = []
            for uid in (u.strip() for u in units.split(",") if u.strip()):
                unit = directory.get(uid) or directory.match(uid)
                if unit is None:
                    raise _fail(2, f"--units: no unit {uid!r}")
                chosen.append(unit)
        else:
            chosen = [u for u in directory.units if u.series == series]
            if not chosen:
                raise _fail(2, f"--series: no unit in series {series!r}")
        with session_scope(rt.engine) as s:
            row = new_request(rt, s, title=title, units=chosen, due=due_date, text=text)
            number = row.id
        typer.echo(f"约稿#{number}: {title}, due {due_date}, {len(chosen)} unit(s)")
        _deliver(rt)


@yuegao_app.command("list")
def yuegao_list(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Every request with each unit's state: on_time, late, open, missed."""
    from mailbot.app.commission import states
    from mailbot.shell.db.models import YuegaoRow
    from mailbot.shell.db.store import session_scope

    with runtime(config) as rt, session_scope(rt.engine) as s:
        now = rt.now()
        data: list[dict[str, Any]] = [
            {
                "number": r.id,
                "title": r.title,
                "due": r.due.isoformat(),
                "units": [
                    {
                        "unit": st.unit_id,
                        "unit_name": st.unit_name,
                        "state": str(st.state),
                        "item": st.item_id,
                    }
                    for st in states(rt, s, r, now)
                ],
            }
            for r in s.exec(select(YuegaoRow).order_by(col(YuegaoRow.id))).all()
        ]
    if as_json:
        _dump(data)
        return
    for r in data:
        typer.echo(f"约稿#{r['number']}  {r['title']}  截止 {r['due']}")
        for u in r["units"]:
            typer.echo(f"    {u['unit_name']}: {u['state']}{'  ' + u['item'] if u['item'] else ''}")


# What a log line is about, passed as `extra=` by the code that logs it: the mail's
# Message-ID and the item number, so an operator can grep one mail's whole story.
LOG_FIELDS = ("message_id", "item")


def _log_fields(record: logging.LogRecord) -> dict[str, str]:
    return {k: str(v) for k in LOG_FIELDS if (v := getattr(record, k, None)) is not None}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (`run --log-format json`), with message_id and item when known."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
            | _log_fields(record)
            | ({"error": self.formatException(record.exc_info)} if record.exc_info else {}),
            ensure_ascii=False,
        )


class TextFormatter(logging.Formatter):
    """The human log line, ending with [message_id=… item=…] when the line is about a mail."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = _log_fields(record)
        return f"{line} [{' '.join(f'{k}={v}' for k, v in fields.items())}]" if fields else line


@app.command()
def run(
    config: ConfigOpt = None,
    log_format: Annotated[str, typer.Option("--log-format", help="text or json (JSON lines)")] = "text",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log every mail")] = False,
) -> None:
    """The daemon: IMAP IDLE (or polling), the outbox sender and the bulletin schedule. SIGTERM stops it cleanly."""
    from mailbot.daemon import Daemon

    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    elif log_format == "text":
        handler.setFormatter(TextFormatter())
    else:
        raise _fail(2, "--log-format must be text or json")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger("mailbot").setLevel(logging.INFO)
    path = config_path(config)
    try:
        load_config(path)
    except ConfigError as exc:
        raise _fail(2, f"配置错误 configuration error: {exc.file}: {exc.key}: {exc.problem}") from exc
    daemon = Daemon(path)
    daemon.install_signals()
    log.warning("mailbot run: config %s", path)
    daemon.run()


@app.command()
def status(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Health at a glance; exits 1 when unhealthy (stale intake, stuck outbox), for container health checks."""
    from mailbot.app.status import health

    with runtime(config) as rt:
        report = health(rt)
    if as_json:
        _dump(report)
    else:
        typer.echo(f"healthy        {'yes' if report['healthy'] else 'NO: ' + '; '.join(report['problems'])}")
        typer.echo(f"last poll      {report['last_poll'] or 'never'}  (idle: {report['idle']})")
        typer.echo(f"pending review {report['pending_review']}")
        ob = report["outbox"]
        typer.echo(
            f"outbox         {ob['queued']} queued, oldest {ob['oldest_queued'] or '-'}, {ob['dead']} refused"
        )
        typer.echo(f"failed mail    {report['failed_mails']}")
        typer.echo(f"bouncing       {', '.join(report['bouncing']) or '-'}")
        typer.echo(f"next bulletin  {report['next_bulletin']}")
        for u in report["urgent"]:
            typer.echo(f"urgent         {u['item']} {u['title']} — {u['state']}")
    if not report["healthy"]:
        raise typer.Exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `mailbot` script."""
    handler = logging.StreamHandler()
    handler.setFormatter(TextFormatter())
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    app(args=list(argv) if argv is not None else None, prog_name="mailbot")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
