"""Running the desk: `check-config`, `poll --once`, `run` (the daemon), `status` and `decide`.

Commands that cause mail queue it in the outbox and try to deliver it before they
exit, so a cron job of `poll --once` is a whole deployment.
"""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated

import typer

from mailbot.cli.common import ConfigOpt, JsonOpt, config_error, deliver, dump, fail, runtime
from mailbot.core.errors import ConfigError
from mailbot.shell.config import config_path, load_config

log = logging.getLogger("mailbot")


def check_config(config: ConfigOpt = None) -> None:
    """Validate the config, units and scoring rules; exit 2 naming the file and key on error."""
    try:
        cfg = load_config(config_path(config))
        from mailbot.core.scoring.rules import load_rules
        from mailbot.core.submission.units import load_units

        units = load_units(cfg.resolve(cfg.units.file))
        rules = load_rules(cfg.resolve(cfg.scoring.file))
    except ConfigError as exc:
        raise config_error(exc) from exc
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


def poll(
    once: Annotated[bool, typer.Option("--once", help="one ingestion pass, then exit")] = False,
    config: ConfigOpt = None,
) -> None:
    """One ingestion pass over the mailbox, then deliver what it queued."""
    if not once:
        raise fail(2, "poll needs --once (the daemon is `mailbot run`)")
    from mailbot.app.intake import poll_once
    from mailbot.app.status import note_polled

    with runtime(config) as rt:
        report = poll_once(rt)
        note_polled(rt)
        parts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "no new mail"
        typer.echo(f"poll: {report.total} mail: {parts}")
        deliver(rt)
        if report.counts.get("failed"):
            raise typer.Exit(1)


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
    from mailbot.app import review
    from mailbot.core.errors import CommandError
    from mailbot.core.review.decisions import describe
    from mailbot.core.review.replies import parse_commands

    with runtime(config) as rt:
        when = rt.now()
        if at:
            try:
                when = dt.datetime.fromisoformat(at)
            except ValueError as exc:
                raise fail(2, f"--at: not an ISO 8601 time: {at!r}") from exc
            if when.tzinfo is None:
                when = when.replace(tzinfo=rt.config.tz)
        text = " ".join(command)
        try:
            decisions = parse_commands(text, rt.vocabulary())
        except CommandError as exc:
            raise fail(2, f"无法识别的指令 unknown command: {exc.detail}") from exc
        decided = review.decide(rt, item_id, decisions, by=by, at=when, source=text)
        if decided is None:
            raise fail(1, f"no item {item_id}")
        points = decided.points
        typer.echo(
            f"{item_id}: {'；'.join(describe(d) for d in decisions)} → {decided.applied.new_status}"
            + (f", {points:g} 分" if points is not None else "")
        )
        deliver(rt)


def run(
    config: ConfigOpt = None,
    log_format: Annotated[str, typer.Option("--log-format", help="text or json (JSON lines)")] = "text",
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log every mail")] = False,
) -> None:
    """The daemon: IMAP IDLE (or polling), the outbox sender and the bulletin schedule. SIGTERM stops it cleanly."""
    from mailbot.cli.logs import FORMATS, log_daemon
    from mailbot.daemon import Daemon

    if log_format not in FORMATS:
        raise fail(2, "--log-format must be text or json")
    log_daemon(log_format, verbose=verbose)
    path = config_path(config)
    try:
        load_config(path)
    except ConfigError as exc:
        raise config_error(exc) from exc
    daemon = Daemon(path)
    daemon.install_signals()
    log.warning("mailbot run: config %s", path)
    daemon.run()


def status(as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """Health at a glance; exits 1 when unhealthy (stale intake, stuck outbox), for container health checks."""
    from mailbot.app.status import health

    with runtime(config) as rt:
        report = health(rt)
    if as_json:
        dump(report)
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
