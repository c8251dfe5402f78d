"""`mailbot items list|show` and `mailbot messages list`: what was filed, and every mail received."""

# Function-local imports: each command imports what it needs when it runs, so that
# `mailbot --help`, completion and a light command never load the database and mail stacks.

from __future__ import annotations

from typing import Annotated

import typer

from mailbot.cli.common import ConfigOpt, JsonOpt, clip, dump, fail, print_table, runtime

items_app = typer.Typer(no_args_is_help=True, help="Filed items.")
messages_app = typer.Typer(no_args_is_help=True, help="Every mail received.")


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
    from mailbot.app import queries
    from mailbot.cli.views import item_summary

    with runtime(config) as rt:
        rows = [
            item_summary(line.item, score=line.score, reason=line.reason, tz=rt.config.tz)
            for line in queries.items(rt, status=status, unit=unit, period=period)
        ]
    if as_json:
        dump([{k: r[k] for k in r if k != "from"} for r in rows])
        return
    print_table(
        ["编号", "状态", "单位", "标题", "收到", "得分", "标记"],
        [
            [
                r["id"],
                r["status"],
                r["unit_name"],
                clip(r["title"], 28),
                (r["received_at"] or "")[:16],
                f"{r['score']:g}" if r["score"] is not None else "",
                "、".join(r["flags"]),
            ]
            for r in rows
        ],
    )
    typer.echo(f"{len(rows)} item(s)")


@items_app.command("show")
def items_show(item_id: str, as_json: JsonOpt = False, config: ConfigOpt = None) -> None:
    """One item with its fields, text, attachments and decisions."""
    from mailbot.app import queries
    from mailbot.cli.views import item_detail

    with runtime(config) as rt:
        record = queries.item(rt, item_id)
        if record is None:
            raise fail(1, f"no item {item_id}")
        data = item_detail(
            record.item,
            score=record.score,
            reason=record.reason,
            attachments=record.attachments,
            events=record.events,
            tz=rt.config.tz,
        )
    if as_json:
        dump(data)
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
    from mailbot.app import queries
    from mailbot.cli.views import message_summary

    with runtime(config) as rt:
        rows = [message_summary(m, tz=rt.config.tz) for m in queries.messages(rt)]
    if as_json:
        dump(rows)
        return
    print_table(
        ["收到", "发件人", "去向", "信息", "主题", "原因"],
        [
            [
                (r["received_at"] or "")[:16],
                r["from"],
                r["disposition"],
                r["item"] or "",
                clip(r["subject"], 30),
                clip(r["reason"] or "", 40),
            ]
            for r in rows
        ],
    )
    typer.echo(f"{len(rows)} mail")
