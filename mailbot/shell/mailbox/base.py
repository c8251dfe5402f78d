"""The mailbox interface: what mailbot sees of an inbox, and the rules every implementation keeps.

Everything else in mailbot sees a `Mailbox`: list what is in the inbox, move a
message to a folder once its processing is committed, wait for new mail. The
rules that keep mail from being lost or doubled live here (SPEC §7,
notes/gateways.md):

- bodies are read with ``BODY.PEEK[]``, so fetching never sets ``\\Seen``;
- a message is only ever moved, never deleted; ``UID MOVE`` when the server has
  it, else ``UID COPY`` + ``\\Deleted`` + ``UID EXPUNGE`` of that one UID;
- moving a message that is already gone is not an error (it was moved before a
  crash), so replaying a move is safe;
- each message is keyed ``"{uidvalidity}:{uid}"`` (IMAP) or by its Maildir key,
  and UIDVALIDITY is exposed so the caller can notice a recreated mailbox;
- IDLE is re-issued at least every 29 minutes (RFC 2177) and a dead connection
  raises `TransportError`; the caller backs off and calls `reconnect()`.

Folder names in config use ``/`` as the hierarchy separator whatever the server
uses; they are translated to the server's separator (and namespace prefix).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from mailbot.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message as found in the inbox, with the key that identifies it there."""

    key: str
    uid: int | None
    uidvalidity: int | None
    raw: bytes  # the whole message; only its header block when `spool` is set
    size: int | None = None  # the message's full size in bytes
    spool: Path | None = None  # a message over the spool limit, on disk instead of in memory
    spool_owned: bool = False  # True when the spool file is a temporary copy the caller may move

    @property
    def full_size(self) -> int:
        """The message's size, whether in memory or spooled."""
        return self.size if self.size is not None else len(self.raw)


@runtime_checkable
class Mailbox(Protocol):
    """The inbox mailbot reads from and the folders it files mail into."""

    source_id: str

    @property
    def uidvalidity(self) -> int | None:
        """UIDVALIDITY of the inbox (None for Maildir); a change means every key changed."""
        ...

    def fetch_new(self, batch_size: int = 100) -> Iterator[Fetched]:
        """Yield every message now in the inbox, oldest first, without marking it read."""
        ...

    def move(self, key: str, folder: str) -> None:
        """Move one message to `folder` (created if missing); a message already gone is fine."""
        ...

    def move_many(self, keys: list[str], folder: str) -> None:
        """Move several messages to `folder` in as few round trips as the server allows."""
        ...

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until new mail may have arrived (True) or `timeout` seconds passed (False)."""
        ...

    def reconnect(self) -> None:
        """Drop the connection (if any) and open a fresh one."""
        ...

    def close(self) -> None:
        """Release the connection; the mailbox may not be used afterwards."""
        ...


def folder_parts(folder: str) -> list[str]:
    """The parts of a config folder name written with ``/``; ``..``, ``.`` and empty parts are refused."""
    parts = [p for p in folder.strip("/").split("/")]
    if not parts or any(p in ("", ".", "..") for p in parts):
        raise ConfigError(file="", key="mailbox.folder", problem=f"bad folder name {folder!r}")
    return parts


def is_inbox(folder: str | None) -> bool:
    """True for the inbox itself (no folder, or INBOX in any case)."""
    return folder is None or folder.strip("/").upper() == "INBOX"


def header_block(path: Path, limit: int = 256 * 1024) -> bytes:
    """The header block of a spooled message (up to the first blank line), for parsing without the body."""
    with open(path, "rb") as fh:
        head = fh.read(limit)
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = head.find(sep)
        if end >= 0:
            return head[: end + len(sep)]
    return head
