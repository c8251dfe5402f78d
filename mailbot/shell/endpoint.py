"""Server URLs of the config (`[mailbox] url`, `[smtp] url`): host, port, user, secret and options.

Both edges read their URL the same way, so that an operator's mistake (a bad
port, an unknown ``?option``, a user without a password) is reported the same
way for IMAP and SMTP, naming the config key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from mailbot.core.errors import ConfigError

_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True, slots=True)
class ServerUrl:
    """A parsed server URL; `secret` is the password argument, else the env var, else the URL's."""

    host: str
    port: int
    user: str | None
    secret: str | None
    path: str
    options: Mapping[str, str]
    timeout: float

    def flag(self, name: str) -> bool:
        """Whether ``?name=1`` (or true/yes/on) was given."""
        return self.options.get(name, "").lower() in _TRUE


def local_path(text: str, base_dir: Path) -> Path:
    """The directory of a ``maildir://`` or ``file://`` URL: absolute, or relative to the config."""
    path = Path(unquote(text))
    return path if path.is_absolute() else Path(base_dir) / path


def parse_server_url(
    url: str,
    *,
    key: str,
    config_file: str,
    default_port: int,
    options: frozenset[str],
    password: str | None,
    password_env: str,
    timeout: float,
) -> ServerUrl:
    """Read ``scheme://user%40dom:secret@host:port/path?opt=1``; ConfigError names `key` on any fault."""

    def bad(problem: str) -> ConfigError:
        return ConfigError(file=config_file, key=key, problem=problem)

    parts = urlsplit(url)
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise bad(f"bad port in {url!r}") from exc
    if not parts.hostname:
        raise bad(f"no host in {url!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    unknown = set(query) - options - {"timeout"}
    if unknown:
        raise bad(f"unknown URL option(s) {sorted(unknown)}")
    try:
        seconds = float(query.get("timeout", timeout))
    except ValueError as exc:
        raise bad("timeout must be a number of seconds") from exc
    in_url = unquote(parts.password) if parts.password else None
    return ServerUrl(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        secret=password or os.environ.get(password_env) or in_url,
        path=unquote(parts.path.lstrip("/")),
        options=query,
        timeout=seconds,
    )
