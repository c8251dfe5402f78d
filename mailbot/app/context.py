"""Everything a command needs, built once from the config: the database, units, archive, mail edges."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from mailbot.core.review.replies import Vocabulary
from mailbot.core.scoring.rules import ScoringRules, load_rules
from mailbot.core.submission.similarity import SimilarityFeed
from mailbot.core.submission.units import UnitDirectory, load_units
from mailbot.shell.archive import Archive
from mailbot.shell.clock import Clock, SystemClock
from mailbot.shell.config import Config, MailboxConfig
from mailbot.shell.db.store import get_secret, load_directory, open_engine, session_scope, sync_units

if TYPE_CHECKING:
    from mailbot.shell.mailbox import Mailbox
    from mailbot.shell.transport import Transport

# What a database that cannot be reached (or refuses a statement) raises, named here so that the
# daemon can wait out an outage without importing SQLAlchemy itself.
DatabaseError = SQLAlchemyError


@dataclass
class Runtime:
    """The opened edges of one mailbot process."""

    config: Config
    clock: Clock = field(default_factory=SystemClock)

    @cached_property
    def engine(self) -> Engine:
        """The migrated database, with units.toml synced in."""
        engine = open_engine(self.config.database_url)
        units = load_units(self.config.resolve(self.config.units.file))
        with session_scope(engine) as s:
            sync_units(s, units)
        # The HMAC key is created here, never inside a filing transaction (SQLite allows one writer).
        self.__dict__["secret"] = get_secret(
            engine, os.environ.get("MAILBOT_SECRET") or self.config.review.secret
        )
        return engine

    def directory(self) -> UnitDirectory:
        """Units as the database has them (re-read at most every 30 s: a CLI import may add some)."""
        cached = self.__dict__.get("_directory")
        if cached is not None and time.monotonic() - cached[0] < 30:
            return cached[1]
        with session_scope(self.engine) as s:
            directory = load_directory(s)
        self.__dict__["_directory"] = (time.monotonic(), directory)
        return directory

    def import_units(self, units: UnitDirectory) -> None:
        """Add or update units and their officers in the database (`units import`); never deletes."""
        with session_scope(self.engine) as s:
            sync_units(s, units)
        self.__dict__.pop("_directory", None)

    @property
    def secret(self) -> bytes:
        """The HMAC key for our Message-IDs (set when the engine opens)."""
        self.engine  # noqa: B018
        secret: bytes = self.__dict__["secret"]
        return secret

    @cached_property
    def archive(self) -> Archive:
        """The raw archive."""
        return Archive(self.config.resolve(self.config.archive.path))

    @cached_property
    def mailboxes(self) -> list[Mailbox]:
        """Every submission mailbox of the config (opened lazily), in config order."""
        # Imported here: scoring, bulletins and queries never load imapclient (start-up time).
        from mailbot.shell.mailbox import open_mailbox

        c = self.config
        boxes = c.mailboxes or (c.mailbox,)
        return [
            open_mailbox(
                box.url,
                c.password_of(i),
                base_dir=c.base_dir,
                config_file=str(c.path),
                poll_interval=float(box.poll_interval),
                spool_over=c.limits.max_message_bytes,
                spool_dir=self.archive.root,
            )
            for i, box in enumerate(boxes)
        ]

    @property
    def mailbox(self) -> Mailbox:
        """The first (usually the only) mailbox."""
        return self.mailboxes[0]

    def box_config(self, mailbox: Mailbox) -> MailboxConfig:
        """The [mailbox] table a mailbox was opened from (its folders, attempts, batch size)."""
        boxes = self.config.mailboxes or (self.config.mailbox,)
        return boxes[self.mailboxes.index(mailbox)]

    @cached_property
    def transport(self) -> Transport:
        """The outgoing transport."""
        # Imported here: only commands that send load aiosmtplib (start-up time).
        from mailbot.shell.transport import open_transport

        transport = open_transport(
            self.config.smtp.url, self.config.smtp_password, base_dir=self.config.base_dir
        )
        transport.open()  # one SMTP connection for all sends of this process, re-opened if dropped
        return transport

    @cached_property
    def rules(self) -> ScoringRules:
        """The scoring rules (scoring.toml)."""
        return load_rules(self.config.resolve(self.config.scoring.file))

    def vocabulary(self) -> Vocabulary:
        """The reply-command vocabulary of the rule set in force now."""
        return Vocabulary(**self.rules.ruleset_at(self.now()).vocabulary_fields())

    @cached_property
    def similarity(self) -> SimilarityFeed:
        """Recent items' fingerprints, for 雷同 checks."""
        return SimilarityFeed()

    def now(self) -> dt.datetime:
        """Now, from the runtime's clock."""
        return self.clock.now()

    def local(self, when: dt.datetime) -> dt.datetime:
        """`when` in the office time zone."""
        return when.astimezone(self.config.tz)

    def close(self) -> None:
        """Release the mailbox connection and the database pool."""
        for box in self.__dict__.get("mailboxes", []):
            box.close()
        if "transport" in self.__dict__:
            self.transport.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
