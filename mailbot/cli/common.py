"""What every command shares: the -c and --json options, the runtime with SPEC §8's exit codes, output.

Exit codes: 0 ok, 1 a failure (or an unhealthy status), 2 a usage or configuration error.
"""

# Function-local imports: a command module imports this one, so what only some commands
# need (the outbox, the mail stacks) is imported when it runs, keeping `mailbot --help` light.

from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from mailbot.app.context import Runtime
from mailbot.core.errors import ConfigError, MailbotError
from mailbot.shell.config import config_path, load_config

ConfigOpt = Annotated[
    str | None,
    typer.Option("-c", "--config", help="config file (default $MAILBOT_CONFIG, else config/mailbot.toml)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output (stable)")]


def me() -> str:
    """The command as this user can type it (.venv/bin/mailbot when the venv is not activated)."""
    return "mailbot" if shutil.which("mailbot") else sys.argv[0]


def fail(code: int, message: str) -> typer.Exit:
    """Print `message` on stderr; the exit to raise, with `code`."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def config_error(exc: ConfigError) -> typer.Exit:
    """A configuration error, naming the file and key: exit 2."""
    return fail(2, f"配置错误 configuration error: {exc.file}: {exc.key}: {exc.problem}")


@contextmanager
def runtime(config: str | None) -> Iterator[Runtime]:
    """Load the config and open the runtime; configuration errors exit 2, other failures 1."""
    try:
        cfg = load_config(config_path(config))
        rt = Runtime(cfg)
        rt.engine  # noqa: B018  (opens, migrates and syncs units; config errors surface here)
    except ConfigError as exc:
        raise config_error(exc) from exc
    try:
        yield rt
    except ConfigError as exc:
        raise config_error(exc) from exc
    except MailbotError as exc:
        raise fail(1, f"error: {exc}") from exc
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


def clip(text: str, width: int) -> str:
    """`text` cut to `width` terminal columns, with an ellipsis when cut."""
    out, w = "", 0
    for c in text:
        w += _width(c)
        if w > width:
            return out + "…"
        out += c
    return out


def dump(data: Any) -> None:
    """Print `data` as the indented JSON of `--json`."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def deliver(rt: Runtime) -> None:
    """Send what the command queued; when the server cannot be reached the mail waits in the outbox."""
    from mailbot.app.delivery import deliver_all

    try:
        report = deliver_all(rt)
    except MailbotError as exc:
        typer.echo(f"outbox: not delivered now ({exc}); queued mail stays in the outbox", err=True)
        return
    if report.sent or report.deferred or report.dead:
        typer.echo(f"outbox: sent {report.sent}, deferred {report.deferred}, refused {report.dead}", err=True)
