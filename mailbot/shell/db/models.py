"""The database tables (SQLModel). Schema changes go through Alembic migrations.

Uniqueness constraints carry the "nothing twice" guarantees: a raw mail is
recorded once (sha256), an item once per Message-ID, an outgoing mail once per
dedupe key, so a retry after a crash can only find the row already there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from mailbot.core.review.status import ItemStatus as ItemStatus  # re-exported: the rows' status values


def utcnow() -> datetime:
    """Now, in UTC (the database stores UTC; the office time zone is applied on display)."""
    return datetime.now(UTC)


class Disposition(StrEnum):
    """What became of a received mail (SPEC §8 `messages list`)."""

    ITEM = "item"
    DECISION = "decision"
    REFUSED = "refused"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    """Where an outgoing mail is in its life."""

    QUEUED = "queued"
    SENT = "sent"
    DEAD = "dead"  # refused for good by the SMTP server


class UnitRow(SQLModel, table=True):
    """A reporting unit, synced from units.toml (and `units import`)."""

    __tablename__ = "unit"
    id: str = Field(primary_key=True)
    name: str
    short: str = ""
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    series: str = Field(index=True)
    parent: str | None = None
    other_parents: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    bulletin_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Officer(SQLModel, table=True):
    """An address registered to submit for a unit."""

    __tablename__ = "officer"
    __table_args__ = (UniqueConstraint("unit_id", "address"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: str = Field(foreign_key="unit.id", index=True)
    address: str = Field(index=True)


class MessageRow(SQLModel, table=True):
    """One received mail and what became of it; written before anything else is done with it."""

    __tablename__ = "message"
    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    mailbox: str = Field(index=True)
    source_key: str = Field(index=True)
    uidvalidity: int | None = None
    uid: int | None = None
    message_id: str = Field(index=True)
    from_addr: str = ""
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    received_at: datetime = Field(default_factory=utcnow, index=True)
    size: int = 0
    archive_path: str = ""
    disposition: str = Field(default=Disposition.FAILED, index=True)
    item_id: str | None = Field(default=None, index=True)
    rule: str | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    moved: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class Item(SQLModel, table=True):
    """One submitted 信息 (or a refused/quarantined submission, for the record)."""

    __tablename__ = "item"
    id: str = Field(primary_key=True)  # YYYY-NNNN; refused/quarantined mail gets RYYYY-NNNN
    year: int
    seq: int
    message_row_id: int = Field(foreign_key="message.id", unique=True)
    message_id: str = Field(unique=True)
    from_addr: str
    unit_id: str | None = Field(default=None, foreign_key="unit.id", index=True)
    unit_name: str = ""
    title: str = Field(sa_column=Column(Text, nullable=False))
    signer: str | None = None
    reporter: str | None = None
    phone: str | None = None
    written_date: date | None = None
    category: str | None = None
    urgent: bool = False
    yuegao_no: int | None = None
    correction_of: str | None = None
    status: str = Field(default=ItemStatus.PENDING, index=True)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    cover_note: str = Field(default="", sa_column=Column(Text, nullable=False))
    text_note: str = ""  # e.g. 未能提取正文 when a .doc could not be read
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    similar_to: str | None = None
    similarity: float | None = None
    fingerprint: bytes | None = Field(default=None, sa_column=Column(LargeBinary))  # similarity.fingerprint
    received_at: datetime = Field(default_factory=utcnow, index=True)


class AttachmentRow(SQLModel, table=True):
    """A file that came with an item; the bytes live in the archive."""

    __tablename__ = "attachment"
    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(foreign_key="item.id", index=True)
    filename: str
    safe_name: str
    content_type: str
    size: int
    sha256: str
    path: str
    is_document: bool = False


class EventRow(SQLModel, table=True):
    """One decision on an item, append-only; the item's state and score derive from these."""

    __tablename__ = "event"
    __table_args__ = (UniqueConstraint("message_row_id", "line_no"),)
    id: int | None = Field(default=None, primary_key=True)  # the global order (ledger seq)
    item_id: str = Field(foreign_key="item.id", index=True)
    kind: str
    args: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    by: str
    at: datetime = Field(index=True)  # when it counts (decide --at sets it)
    recorded_at: datetime = Field(default_factory=utcnow)
    source: str = ""  # the command line as written
    message_row_id: int | None = Field(default=None, foreign_key="message.id")
    line_no: int = 0


class OutboxRow(SQLModel, table=True):
    """A mail to send; written in the same transaction as what caused it."""

    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True)
    message_id: str = Field(unique=True)
    kind: str = Field(index=True)
    item_id: str | None = Field(default=None, index=True)
    mail_from: str
    rcpt_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    priority: int = 0  # lower goes first; urgent alerts are 0, bulletins 9
    status: str = Field(default=OutboxStatus.QUEUED, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class Counter(SQLModel, table=True):
    """Named sequences (item numbers per year) advanced under the row's write lock."""

    __tablename__ = "counter"
    name: str = Field(primary_key=True)
    value: int = 0


class Setting(SQLModel, table=True):
    """Small persistent settings (the generated HMAC secret, schema notes)."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True)
    value: str


class Bounce(SQLModel, table=True):
    """An address whose server bounced mail of ours (bulletins, receipts)."""

    __tablename__ = "bounce"
    address: str = Field(primary_key=True)
    first_at: datetime = Field(default_factory=utcnow)
    last_at: datetime = Field(default_factory=utcnow)
    count: int = 1
    last_message_id: str = ""


class BulletinRow(SQLModel, table=True):
    """A bulletin issued for a period; its per-address mails are outbox rows keyed by (bulletin, unit, address)."""

    __tablename__ = "bulletin"
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(unique=True)  # 2026-10 | 2026-Q1 | 2026
    title: str
    issued_at: datetime = Field(default_factory=utcnow)
    recipients: int = 0


class YuegaoRow(SQLModel, table=True):
    """A commissioned request (约稿#N) sent to chosen units, answered by items tagged 【约稿#N】."""

    __tablename__ = "yuegao"
    id: int = Field(primary_key=True)  # N
    title: str
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    due: date
    units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = "cli"
