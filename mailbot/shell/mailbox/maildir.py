"""The mailbox as a local Maildir (the embedded default), folders stored Maildir++ like Dovecot's."""

from __future__ import annotations

import logging
import mailbox as stdlib_mailbox
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from imapclient import imap_utf7

from mailbot.core.errors import ConfigError, TransportError
from mailbot.shell.mailbox.base import Fetched, folder_parts, header_block, is_inbox

log = logging.getLogger(__name__)

_AGE = re.compile(r"^(\d+)\.(?:M(\d+))?(?:P\d+)?(?:Q(\d+))?")


class MaildirMailbox:
    """A local Maildir (the embedded default); folders are Maildir++ subfolders like Dovecot's."""

    uidvalidity: int | None = None

    def __init__(self, path: Path, *, poll_interval: float = 0.5, spool_over: int | None = None) -> None:
        # Messages over spool_over bytes are handed out as their file, not read into memory.
        self.spool_over = spool_over
        self.path = Path(path).absolute()
        self.poll_interval = poll_interval
        self.source_id = f"maildir:{self.path}"
        self._root = self._open(self.path)
        # Keys handed out by the last fetch_new: wait() wakes for any key not among them.
        self._seen: set[str] = set()
        self._index: dict[str, Path] = {}

    @staticmethod
    def _open(path: Path) -> stdlib_mailbox.Maildir:
        try:
            path.mkdir(parents=True, exist_ok=True)
            for sub in ("tmp", "new", "cur"):
                (path / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise TransportError(f"cannot create Maildir {path}: {exc}") from exc
        return stdlib_mailbox.Maildir(str(path), factory=None, create=True)

    def _folder_path(self, folder: str | None) -> Path:
        if is_inbox(folder):
            return self.path
        assert folder is not None
        parts = folder_parts(folder)
        if any("." in p for p in parts):
            raise ConfigError(
                file="", key="mailbox.folder", problem=f"'.' not allowed in a Maildir folder: {folder!r}"
            )
        # Dovecot stores Maildir++ folder names in modified UTF-7: 中文 folders stay readable over IMAP.
        return self.path / ("." + ".".join(imap_utf7.encode(p).decode("ascii") for p in parts))

    def _ensure_folder(self, folder: str | None) -> Path:
        path = self._folder_path(folder)
        if path != self.path and not (path / "cur").is_dir():
            self._open(path)
            (path / "maildirfolder").touch()
        return path

    @staticmethod
    def _scan(path: Path) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                names = os.listdir(path / sub)
            except FileNotFoundError:
                continue
            for name in names:
                if not name.startswith("."):
                    found[name.split(":", 1)[0]] = path / sub / name
        return found

    @staticmethod
    def _oldest_first(found: dict[str, Path]) -> list[str]:
        def age(key: str) -> tuple[float, int, str]:
            m = _AGE.match(key)
            if m:
                return (int(m.group(1)) + int(m.group(2) or 0) / 1e6, int(m.group(3) or 0), key)
            try:
                return (found[key].stat().st_mtime, 0, key)
            except FileNotFoundError:
                return (0.0, 0, key)

        return sorted(found, key=age)

    def reconnect(self) -> None:
        """Nothing to reconnect; re-reads the directory."""
        self._index = self._scan(self.path)

    def close(self) -> None:
        self._root.close()

    def __enter__(self) -> MaildirMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_new(self, batch_size: int = 100) -> Iterator[Fetched]:
        """Yield every message in new/ and cur/, oldest first by delivery time in its name."""
        self._index = self._scan(self.path)
        self._seen = set()
        for key in self._oldest_first(self._index):
            try:
                size = self._index[key].stat().st_size
                if self.spool_over is not None and size > self.spool_over:
                    self._seen.add(key)
                    big = self._index[key]
                    yield Fetched(
                        key=key, uid=None, uidvalidity=None, raw=header_block(big), size=size, spool=big
                    )
                    continue
                raw = self._index[key].read_bytes()
            except FileNotFoundError:
                # Renamed new/ -> cur/ by a reader, or moved away: look once more.
                found = self._scan(self.path).get(key)
                if found is None:
                    continue
                self._index[key] = found
                raw = found.read_bytes()
            self._seen.add(key)
            yield Fetched(key=key, uid=None, uidvalidity=None, raw=raw)

    def move_many(self, keys: list[str], folder: str) -> None:
        """Move several messages (one rename each: Maildir has no index to rewrite)."""
        for key in keys:
            self.move(key, folder)

    def move(self, key: str, folder: str) -> None:
        """Rename the message file into `folder` (same name, same bytes); no-op if it is gone."""
        target = self._ensure_folder(folder)
        if target == self.path:
            return
        for attempt in range(2):
            src = self._index.get(key)
            if src is None or attempt:
                self._index = self._scan(self.path)
                src = self._index.get(key)
                if src is None:
                    log.info("%s: %s already moved", self.source_id, key)
                    return
            try:
                # One rename: the file is in exactly one folder at every instant.
                os.rename(src, target / src.parent.name / src.name)
            except FileNotFoundError:
                continue
            self._index.pop(key, None)
            return

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Poll new/ and cur/ every `poll_interval` s until a key not seen by fetch_new appears."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            if set(self._scan(self.path)) - self._seen:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                return False
            pause = min(self.poll_interval, remaining)
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)
