"""The configuration reference (docs/config.md), rendered from the typed config in mailbot/shell/config.py.

Every key's type, default and meaning live next to the code that reads them
(`metadata["doc"]` on each dataclass field), so the reference is generated
rather than written: `python -m mailbot.cli.configdoc > docs/config.md`, and a
test fails when the committed file differs from what the code says.
"""

from __future__ import annotations

import json
import sys
import types
from dataclasses import MISSING, Field, fields
from typing import Any, Union, get_args, get_origin, get_type_hints

from mailbot.shell.config import _RENAMED, SECTIONS

# Keys whose value may come from the environment instead of the file (the env wins).
ENV_OVERRIDES: dict[tuple[str, str], str] = {
    ("mailbox", "password"): "MAILBOT_IMAP_PASSWORD",
    ("smtp", "password"): "MAILBOT_SMTP_PASSWORD",
    ("database", "url"): "MAILBOT_DATABASE_URL",
    ("review", "secret"): "MAILBOT_SECRET",
}

REGENERATE = "python -m mailbot.cli.configdoc > docs/config.md"

_PREFACE = f"""\
# Configuration reference: mailbot.toml

<!-- Generated from mailbot/shell/config.py by `{REGENERATE}`. Do not edit by hand. -->

mailbot reads one TOML file: `-c CONFIG` on any command, else `$MAILBOT_CONFIG`,
else `config/mailbot.toml`. `mailbot init DIR` writes a commented starting file;
`mailbot check-config -c FILE` validates it (and the units and scoring files it
names) and exits 2 with the file and key of the first problem.

- Relative paths (and `maildir://`, `file://`, `sqlite:///` URLs with a relative
  path) are resolved against the folder of the config file, not the working directory.
- Every key is optional; a missing key takes the default below. An unknown key
  or section is an error, so a typo never passes silently.
- Secrets may come from the environment instead of the file; the environment
  wins when both are set.

| environment variable | replaces |
|---|---|
{{env_rows}}
"""

_URLS = """\
## URL forms

`[mailbox] url`:

| form | meaning |
|---|---|
| `maildir://var/inbox` | a Maildir folder on disk, relative to the config file (`maildir:///abs/path` for an absolute one); the embedded default |
| `imap://user%40example.org@host:143/INBOX` | IMAP without TLS (loopback or a trusted LAN only) |
| `imap://…?starttls=1` | IMAP upgraded with STARTTLS |
| `imaps://user%40example.org@host:993/INBOX` | IMAP over TLS |
| `…?insecure=1` | accept a self-signed certificate (intranet servers) |
| `…?timeout=60` | socket timeout in seconds |

The `@` of the login name is written `%40`. The password comes from
`$MAILBOT_IMAP_PASSWORD`, else `[mailbox] password`, else the URL itself.
Folder names (`processed_folder` …) are written with `/` whatever separator
the server uses; mailbot creates them when missing.

Several mailboxes feeding one desk (a province whose cities each have a
submission mailbox): write `[[mailbox]]` tables instead of one `[mailbox]`,
each with the keys above. Items share one numbering; each mailbox files its
mail into its own folders. The password of the n-th mailbox (from 1) comes
from `$MAILBOT_IMAP_PASSWORD_<n>`, else its `password`, else
`$MAILBOT_IMAP_PASSWORD` (the first mailbox also reads plain
`$MAILBOT_IMAP_PASSWORD` first).

`[smtp] url`:

| form | meaning |
|---|---|
| `file://var/outbox` | write every outgoing mail as an `.eml` file (relative to the config file); the embedded default |
| `smtp://host:25` | SMTP without TLS |
| `smtp+starttls://user%40example.org@host:587` | SMTP with STARTTLS (port 587 by default) |
| `smtps://user%40example.org@host:465` | SMTP over TLS (port 465 by default) |
| `…?insecure=1`, `…?timeout=60` | as for IMAP |

A user in the URL needs a password: `$MAILBOT_SMTP_PASSWORD`, else `[smtp] password`, else the URL.

`[database] url`: `sqlite:///var/mailbot.db` (relative to the config file;
`sqlite:////abs/path.db` for an absolute one) or
`postgresql+psycopg://user:password@host/dbname` (several daemons; see docs/architecture.md).
"""


def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        return f"{_type_name(args[0])}, optional"
    if origin is list:
        (inner,) = get_args(hint)
        return f"list of {_type_name(inner)}s"
    return {str: "string", int: "integer", float: "number", bool: "boolean"}.get(hint, str(hint))


def toml_value(value: Any) -> str:
    """A Python default written as TOML (strings quoted with JSON escapes, which TOML shares)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def field_default(f: Field[Any]) -> Any:
    """The default of a config field (None when it has none)."""
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return None


def toml_key(section: str, attr: str) -> str:
    """The key as written in mailbot.toml (smtp.sender is written `from`)."""
    inverse = {a: k for (s, k), a in _RENAMED.items() if s == section}
    return inverse.get(attr, attr)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default_cell(value: Any) -> str:
    if value is None:
        return "(none)"
    return f"`{_cell(toml_value(value))}`"


def section_rows(section: str, cls: type) -> list[tuple[str, str, Any, str, str | None]]:
    """(TOML key, type, default, doc, env var) for every key of one section, in file order."""
    hints = get_type_hints(cls)
    return [
        (
            toml_key(section, f.name),
            _type_name(hints[f.name]),
            field_default(f),
            str(f.metadata.get("doc", "")),
            ENV_OVERRIDES.get((section, toml_key(section, f.name))),
        )
        for f in fields(cls)
    ]


def config_reference() -> str:
    """The Markdown reference of every section and key of mailbot.toml."""
    env_rows = "\n".join(f"| `{env}` | `[{s}] {k}` |" for (s, k), env in ENV_OVERRIDES.items())
    out = [_PREFACE.replace("{env_rows}", env_rows)]
    for name, cls in SECTIONS.items():
        summary = (cls.__doc__ or "").strip().split("\n", 1)[0]
        title = summary.split("—", 1)[1].strip() if "—" in summary else ""
        out.append(f"## [{name}]\n")
        if title:
            out.append(f"{title[0].upper()}{title[1:]}\n")
        out.append("| key | type | default | env | meaning |\n|---|---|---|---|---|")
        for key, type_name, default, doc, env in section_rows(name, cls):
            env_cell = f"`{env}`" if env else ""
            out.append(f"| `{key}` | {type_name} | {_default_cell(default)} | {env_cell} | {_cell(doc)} |")
        out.append("")
    out.append(_URLS)
    return "\n".join(out).rstrip("\n") + "\n"


def main() -> None:
    """Print the reference (redirect it to docs/config.md)."""
    sys.stdout.write(config_reference())


if __name__ == "__main__":
    main()
