"""Typed configuration: mailbot.toml (SPEC §9) validated once at start.

Every section is a dataclass whose fields carry their documentation, so the
config reference in docs/ is generated from this module and never drifts.
A wrong key or value raises ConfigError naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
import types
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mailbot.core.errors import ConfigError

DEFAULT_CONFIG = "config/mailbot.toml"


def doc(text: str, default: Any = MISSING) -> Any:
    """A dataclass field with its documentation attached (for the generated reference)."""
    if default is MISSING:
        return field(metadata={"doc": text})
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True, slots=True)
class MailboxConfig:
    """[mailbox] — where submissions and replies arrive."""

    url: str = doc(
        "imap://user%40domain@host:port/INBOX, imaps://…, or maildir://PATH (relative to this file)",
        "maildir://var/inbox",
    )
    password: str | None = doc("IMAP password; prefer the env var MAILBOT_IMAP_PASSWORD", None)
    processed_folder: str = doc("folder for mail that became an item or a decision", "mailbot/processed")
    refused_folder: str = doc("folder for refused and quarantined mail", "mailbot/refused")
    ignored_folder: str = doc("folder for auto-replies, bounces, list mail and spam", "mailbot/ignored")
    failed_folder: str = doc("folder for mail that failed processing max_attempts times", "mailbot/failed")
    poll_interval: int = doc("seconds between polls when the server has no IDLE", 60)
    batch_size: int = doc("messages fetched per IMAP round trip", 100)
    max_attempts: int = doc("processing attempts before a mail goes to the failed folder", 5)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """[smtp] — how mailbot sends mail."""

    url: str = doc(
        "smtp://host:port, smtps://…, smtp+starttls://…, or file://DIR (writes .eml files)",
        "file://var/outbox",
    )
    sender: str = doc(
        "the From of every mail mailbot sends (TOML key: from)", "政务信息报送 <inbox@example.org>"
    )
    password: str | None = doc("SMTP password; prefer the env var MAILBOT_SMTP_PASSWORD", None)
    max_per_address_per_day: int = doc("cap on automatic replies to one address a day (loop guard)", 40)


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """[database]."""

    url: str = doc(
        "sqlite:///PATH (relative to this file) or postgresql+psycopg://…; "
        "env MAILBOT_DATABASE_URL overrides",
        "sqlite:///var/mailbot.db",
    )


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    """[archive] — the raw copy of every mail received, written before processing."""

    path: str = doc("directory of content-addressed .eml files", "var/archive")


@dataclass(frozen=True, slots=True)
class OfficeConfig:
    """[office]."""

    name: str = doc("the office that signs receipts and bulletins", "广州市人民政府办公厅")
    short_name: str = doc(
        "the office as refusal replies name it to officers (请使用已在…登记备案的信息员邮箱报送)", "市政府办公厅"
    )
    example_unit: str = doc(
        "the unit named in refusal replies' example subjects when the sender's own unit is not known; "
        "empty: the first unit of the directory",
        "",
    )
    timezone: str = doc("IANA time zone of the office", "Asia/Shanghai")
    domain: str = doc("domain used in Message-IDs of mail mailbot sends", "mailbot.invalid")


@dataclass(frozen=True, slots=True)
class ReviewConfig:
    """[review]."""

    reviewers: list[str] = doc("addresses allowed to decide on items", [])
    urgent: list[str] = doc(
        "duty editors: alerted at once about 【紧急】/【突发】 items, and allowed to decide on items", []
    )
    require_authenticated_sender: bool = doc(
        "reviewer mail must carry dkim=pass or spf=pass from authserv_id", False
    )
    authserv_id: str = doc("the authserv-id of your own mail server's Authentication-Results", "")
    secret: str | None = doc(
        "HMAC key for Message-IDs; env MAILBOT_SECRET; generated and kept in the database when unset", None
    )


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """[limits] — refusal thresholds (SPEC §2.2)."""

    max_message_bytes: int = doc("largest mail accepted", 20_000_000)
    max_extracted_bytes: int = doc("largest total of extracted documents and text per mail", 50_000_000)
    similar_days: int = doc("days back within which a unit's near-identical item is flagged 雷同", 30)
    similar_threshold: float = doc(
        "share of shared 3-character pieces (Jaccard, 0–1) from which two items are 雷同", 0.5
    )
    similar_other_days: int = doc(
        "days back within which another unit's near-identical item is flagged 雷同", 7
    )


@dataclass(frozen=True, slots=True)
class BulletinConfig:
    """[bulletin]."""

    schedule: str = doc("cron expression (office time zone) for the monthly bulletin", "0 9 1 * *")
    title: str = doc("the bulletin's title", "政务信息工作通报")


@dataclass(frozen=True, slots=True)
class UnitsConfig:
    """[units]."""

    file: str = doc("units.toml, relative to this file", "units.toml")


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """[scoring]."""

    file: str = doc("scoring.toml, relative to this file", "scoring.toml")


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration, with paths resolved against the config file's folder."""

    path: Path
    mailbox: MailboxConfig
    smtp: SmtpConfig
    database: DatabaseConfig
    archive: ArchiveConfig
    office: OfficeConfig
    review: ReviewConfig
    limits: LimitsConfig
    bulletin: BulletinConfig
    units: UnitsConfig
    scoring: ScoringConfig
    # Every mailbox served; `mailbox` is the first. One [mailbox] table, or several [[mailbox]] tables
    # (a province whose cities each have a submission mailbox) feeding one desk.
    mailboxes: tuple[MailboxConfig, ...] = ()

    @property
    def base_dir(self) -> Path:
        """The folder relative paths are resolved against."""
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """A path from the config, made absolute against the config file's folder."""
        p = Path(relative)
        return p if p.is_absolute() else self.base_dir / p

    @property
    def tz(self) -> ZoneInfo:
        """The office time zone."""
        return ZoneInfo(self.office.timezone)

    @property
    def database_url(self) -> str:
        """The database URL, env override applied, sqlite paths made absolute."""
        url = os.environ.get("MAILBOT_DATABASE_URL") or self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
            url = prefix + str(self.resolve(url[len(prefix) :]))
        return url

    @property
    def imap_password(self) -> str | None:
        """IMAP password of the first mailbox: env first, then the file."""
        return os.environ.get("MAILBOT_IMAP_PASSWORD") or self.mailbox.password

    def password_of(self, index: int) -> str | None:
        """The password of mailbox `index`: env MAILBOT_IMAP_PASSWORD_<n> (n from 1), then its
        `password` key; the first mailbox also takes plain MAILBOT_IMAP_PASSWORD first."""
        box = self.mailboxes[index] if self.mailboxes else self.mailbox
        numbered = os.environ.get(f"MAILBOT_IMAP_PASSWORD_{index + 1}")
        if index == 0:
            return numbered or self.imap_password
        return numbered or box.password or os.environ.get("MAILBOT_IMAP_PASSWORD")

    @property
    def smtp_password(self) -> str | None:
        """SMTP password: env first, then the file."""
        return os.environ.get("MAILBOT_SMTP_PASSWORD") or self.smtp.password


SECTIONS: dict[str, type] = {
    "mailbox": MailboxConfig,
    "smtp": SmtpConfig,
    "database": DatabaseConfig,
    "archive": ArchiveConfig,
    "office": OfficeConfig,
    "review": ReviewConfig,
    "limits": LimitsConfig,
    "bulletin": BulletinConfig,
    "units": UnitsConfig,
    "scoring": ScoringConfig,
}
# TOML keys that are Python keywords or clash with builtins.
_RENAMED = {("smtp", "from"): "sender"}


def _check_value(value: Any, hint: Any, file: str, key: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _check_value(value, args[0], file, key)
    if origin is list:
        (inner,) = get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(file, key, f"must be a list, got {value!r}")
        return [_check_value(v, inner, file, f"{key}[{i}]") for i, v in enumerate(value)]
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(file, key, f"must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(file, key, f"must be a whole number, got {value!r}")
        if value < 0:
            raise ConfigError(file, key, f"must not be negative, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(file, key, f"must be a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(file, key, f"must be a string, got {value!r}")
        return value
    raise AssertionError(f"unsupported config type {hint!r}")  # a bug in this module, not in the file


def _section(name: str, cls: type, data: Any, file: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(file, f"[{name}]", "must be a table")
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls)}
    values: dict[str, Any] = {}
    renamed_targets = {a for (s, _), a in _RENAMED.items() if s == name}
    for raw_key, value in data.items():
        attr = _RENAMED.get((name, raw_key), raw_key)
        if attr not in known or raw_key in renamed_targets:
            raise ConfigError(
                file, f"{name}.{raw_key}", f"unknown key (known: {', '.join(sorted(_toml_keys(name, cls)))})"
            )
        values[attr] = _check_value(value, hints[attr], file, f"{name}.{raw_key}")
    return cls(**values)


def _toml_keys(name: str, cls: type) -> list[str]:
    inverse = {a: k for (s, k), a in _RENAMED.items() if s == name}
    return [inverse.get(f.name, f.name) for f in fields(cls)]


def config_from_data(data: dict[str, Any], path: Path) -> Config:
    """Validate parsed TOML and build the Config (no file access)."""
    file = str(path)
    unknown = set(data) - set(SECTIONS)
    if unknown:
        raise ConfigError(file, f"[{sorted(unknown)[0]}]", f"unknown section (known: {', '.join(SECTIONS)})")
    boxes_data = data.get("mailbox", {})
    tables = boxes_data if isinstance(boxes_data, list) else [boxes_data]
    if not tables:
        raise ConfigError(file, "[[mailbox]]", "at least one mailbox is needed")
    boxes = tuple(
        _section("mailbox" if len(tables) == 1 else f"mailbox[{i}]", MailboxConfig, t, file)
        for i, t in enumerate(tables)
    )
    sections = {
        name: _section(name, cls, data.get(name, {}), file)
        for name, cls in SECTIONS.items()
        if name != "mailbox"
    }
    cfg = Config(path=path.resolve(), mailbox=boxes[0], mailboxes=boxes, **sections)
    for i, box in enumerate(boxes):
        where = "mailbox" if len(boxes) == 1 else f"mailbox[{i}]"
        if box.url.split("://", 1)[0] not in {"imap", "imaps", "maildir"}:
            raise ConfigError(
                file, f"{where}.url", f"must start with imap://, imaps:// or maildir://, got {box.url!r}"
            )
    if len({b.url for b in boxes}) != len(boxes):
        raise ConfigError(file, "[[mailbox]].url", "the same mailbox is listed twice")
    try:
        ZoneInfo(cfg.office.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(file, "office.timezone", f"unknown time zone {cfg.office.timezone!r}") from exc
    if cfg.mailbox.batch_size < 1:
        raise ConfigError(file, "mailbox.batch_size", "must be at least 1")
    if cfg.mailbox.max_attempts < 1:
        raise ConfigError(file, "mailbox.max_attempts", "must be at least 1")
    if not 0 < cfg.limits.similar_threshold <= 1:
        raise ConfigError(file, "limits.similar_threshold", "must be in (0, 1]")
    if cfg.smtp.url.split("://", 1)[0] not in {"smtp", "smtps", "smtp+starttls", "file"}:
        raise ConfigError(
            file,
            "smtp.url",
            f"must start with smtp://, smtps://, smtp+starttls:// or file://, got {cfg.smtp.url!r}",
        )
    db = cfg.database_url
    if not (db.startswith("sqlite:") or db.startswith("postgresql")):
        raise ConfigError(
            file, "database.url", f"must be sqlite:///PATH or postgresql+psycopg://…, got {db!r}"
        )
    for i, addr in enumerate(cfg.review.reviewers + cfg.review.urgent):
        if "@" not in addr:
            raise ConfigError(file, f"review.reviewers[{i}]", f"not an email address: {addr!r}")
    return cfg


def config_path(explicit: str | None) -> Path:
    """-c CONFIG, else $MAILBOT_CONFIG, else config/mailbot.toml."""
    return Path(explicit or os.environ.get("MAILBOT_CONFIG") or DEFAULT_CONFIG)


def load_config(path: Path) -> Config:
    """Read and validate mailbot.toml."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            str(path), "(file)", "config file not found; create one with `mailbot init DIR`"
        ) from exc
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"cannot read: {exc}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(syntax)", str(exc)) from exc
    return config_from_data(data, path)
