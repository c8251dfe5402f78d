"""The mailbox over IMAP (imapclient): BODY.PEEK[] fetches, UID MOVE or COPY+EXPUNGE, IDLE renewed in time."""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from mailbot.core.errors import TransportError
from mailbot.shell.mailbox.base import Fetched, folder_parts, header_block, is_inbox

log = logging.getLogger(__name__)

T = TypeVar("T")

IDLE_RENEW_SECONDS = 29 * 60
"""RFC 2177: servers may drop an IDLE after 30 minutes of silence; renew before that."""


class ImapMailbox:
    """An IMAP inbox (imapclient). Not thread-safe: one mailbox object per thread."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        folder: str = "INBOX",
        use_ssl: bool = False,
        starttls: bool = False,
        verify_cert: bool = True,
        timeout: float = 60.0,
        poll_interval: float = 60.0,
        spool_over: int | None = None,
        spool_dir: Path | None = None,
    ) -> None:
        # Messages larger than spool_over bytes are fetched in chunks to a file, never whole into memory.
        self.spool_over = spool_over
        self.spool_dir = spool_dir
        self.host = host
        self.port = port
        self.username = username
        self.folder = folder or "INBOX"
        self.use_ssl = use_ssl
        self.starttls = starttls
        self.verify_cert = verify_cert
        self.timeout = timeout
        self.poll_interval = poll_interval
        scheme = "imaps" if use_ssl else "imap"
        self.source_id = f"{scheme}://{username}@{host}:{port}/{self.folder}"
        self._password = password
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._caps: frozenset[bytes] = frozenset()
        self._sep = "/"
        self._prefix = ""
        self._known_folders: set[str] = set()
        # Highest UID handed out by the last fetch_new: wait() wakes for anything above it.
        self._high_uid = 0

    # -- connection ---------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if not self.verify_cert:
            # Self-signed test or intranet servers, opted into with ?insecure=1.
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> IMAPClient:
        where = f"{self.host}:{self.port}"
        try:
            client = IMAPClient(
                self.host,
                port=self.port,
                ssl=self.use_ssl,
                ssl_context=self._ssl_context() if self.use_ssl else None,
                timeout=self.timeout,
            )
        except (OSError, IMAPClientError) as exc:
            raise TransportError(f"cannot connect to IMAP server {where}: {exc}") from exc
        try:
            if self.starttls:
                client.starttls(self._ssl_context())
            client.login(self.username, self._password)
            self._caps = frozenset(client.capabilities())
            if b"ID" in self._caps:
                # NetEase (163/126) refuses SELECT ("Unsafe Login") from clients that do not identify.
                client.id_({"name": "mailbot", "version": "0.1", "vendor": "mailbot"})
            self._read_namespace(client)
            selected = client.select_folder(self._server_name(self.folder))
        except LoginError as exc:
            _quiet_logout(client)
            raise TransportError(f"IMAP login as {self.username} at {where} refused: {exc}") from exc
        except (OSError, IMAPClientError) as exc:
            _quiet_logout(client)
            raise TransportError(f"IMAP server {where} failed during login/select: {exc}") from exc
        uidvalidity = int(selected[b"UIDVALIDITY"])
        if self._uidvalidity is not None and uidvalidity != self._uidvalidity:
            log.warning(
                "UIDVALIDITY of %s changed from %s to %s: every UID is new",
                self.source_id,
                self._uidvalidity,
                uidvalidity,
            )
            self._high_uid = 0
            self._known_folders.clear()
        self._uidvalidity = uidvalidity
        return client

    def _read_namespace(self, client: IMAPClient) -> None:
        # The separator and prefix decide how "mailbot/processed" is spelled on this server.
        sep, prefix = "/", ""
        try:
            if b"NAMESPACE" in self._caps:
                personal = client.namespace().personal
                if personal:
                    prefix, raw_sep = personal[0][0], personal[0][1]
                    sep = raw_sep or "/"
            else:
                listed = client.list_folders("", "")
                if listed and listed[0][1]:
                    raw = listed[0][1]
                    sep = raw.decode() if isinstance(raw, bytes) else str(raw)
        except IMAPClientError:
            log.debug("no NAMESPACE/LIST answer from %s; assuming '/'", self.source_id)
        self._sep = sep if isinstance(sep, str) else sep.decode()
        self._prefix = prefix if isinstance(prefix, str) else prefix.decode()

    def _ensure(self) -> IMAPClient:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            _quiet_logout(client)

    def reconnect(self) -> None:
        """Drop the connection (if any) and log in again; raises TransportError if that fails."""
        self._drop()
        self._ensure()

    def close(self) -> None:
        """Log out; errors on a dead connection are ignored."""
        self._drop()

    def __enter__(self) -> ImapMailbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, what: str, op: Callable[[IMAPClient], T]) -> T:
        """Run `op` on a live connection, turning socket/protocol failures into TransportError."""
        client = self._ensure()
        try:
            return op(client)
        except (IMAPClientAbortError, OSError) as exc:
            self._drop()
            raise TransportError(
                f"IMAP connection to {self.host}:{self.port} lost during {what}: {exc}"
            ) from exc
        except IMAPClientError as exc:
            raise TransportError(f"IMAP server {self.host}:{self.port} refused {what}: {exc}") from exc

    @property
    def uidvalidity(self) -> int | None:
        """UIDVALIDITY of the inbox as of the last SELECT (connects if needed)."""
        self._ensure()
        return self._uidvalidity

    @property
    def capabilities(self) -> frozenset[bytes]:
        self._ensure()
        return self._caps

    # -- folders ------------------------------------------------------------------

    def _server_name(self, folder: str) -> str:
        if is_inbox(folder):
            return "INBOX"
        name = self._sep.join(folder_parts(folder))
        if self._prefix and not name.startswith(self._prefix):
            name = self._prefix + name
        return name

    def _ensure_folder(self, client: IMAPClient, name: str) -> None:
        if name == "INBOX" or name in self._known_folders:
            return
        if not client.folder_exists(name):
            try:
                client.create_folder(name)
            except IMAPClientError:
                # Another process may have created it between our LIST and CREATE.
                if not client.folder_exists(name):
                    raise
            try:
                client.subscribe_folder(name)
            except IMAPClientError:
                log.debug("could not subscribe %s", name)
        self._known_folders.add(name)

    # -- the interface --------------------------------------------------------------

    def fetch_new(self, batch_size: int = 100) -> Iterator[Fetched]:
        """Yield every undeleted inbox message, oldest (lowest UID) first, fetched `batch_size` at a time."""
        uids = sorted(self._run("UID SEARCH", _undeleted_uids))
        uidvalidity = self._uidvalidity
        self._high_uid = 0
        step = max(1, batch_size)
        for i in range(0, len(uids), step):
            batch = uids[i : i + step]
            big: dict[int, int] = {}
            if self.spool_over is not None:
                sizes = self._run("UID FETCH", functools.partial(_fetch_sizes, uids=batch))
                big = {u: s for u, s in sizes.items() if s > self.spool_over}
            small = [u for u in batch if u not in big]
            data = self._run("UID FETCH", functools.partial(_fetch_bodies, uids=small)) if small else {}
            if self._uidvalidity != uidvalidity:
                raise TransportError(f"UIDVALIDITY of {self.source_id} changed during a fetch")
            for uid in batch:
                if uid in big:
                    spooled = self._spool(uid, uidvalidity, big[uid])
                    if spooled is not None:
                        self._high_uid = max(self._high_uid, uid)
                        yield spooled
                    continue
                item = data.get(uid)
                # A message expunged by someone else since the SEARCH is simply not there.
                if item is None or b"BODY[]" not in item:
                    continue
                self._high_uid = max(self._high_uid, uid)
                yield Fetched(
                    key=f"{uidvalidity}:{uid}",
                    uid=uid,
                    uidvalidity=uidvalidity,
                    raw=bytes(item[b"BODY[]"]),
                )

    def _spool(self, uid: int, uidvalidity: int | None, size: int) -> Fetched | None:
        """Fetch one large message in 4 MB partial fetches into a temporary file."""
        chunk = 4 * 1024 * 1024
        if self.spool_dir is not None:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="mailbot-spool-", suffix=".eml", dir=self.spool_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as fh:
                offset = 0
                while offset < size:
                    part = self._run(
                        "UID FETCH", functools.partial(_fetch_part, uid=uid, start=offset, length=chunk)
                    )
                    if not part:
                        break
                    fh.write(part)
                    offset += len(part)
            header = header_block(path)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if offset == 0:
            path.unlink(missing_ok=True)
            return None  # expunged meanwhile
        return Fetched(
            key=f"{uidvalidity}:{uid}",
            uid=uid,
            uidvalidity=uidvalidity,
            raw=header,
            size=offset,
            spool=path,
            spool_owned=True,
        )

    def move(self, key: str, folder: str) -> None:
        """Move the message `key` to `folder`; no-op if it is gone or its UIDVALIDITY is stale."""
        self.move_many([key], folder)

    def move_many(self, keys: list[str], folder: str) -> None:
        """Move messages to `folder` with one UID MOVE (Dovecot rewrites its index once, not per mail)."""
        uids: list[int] = []
        for key in keys:
            try:
                validity_text, uid_text = key.split(":", 1)
                validity, uid = int(validity_text), int(uid_text)
            except ValueError:
                raise ValueError(f"not an IMAP message key: {key!r}") from None
            if self.uidvalidity != validity:
                log.warning(
                    "not moving %s: UIDVALIDITY is now %s; it will be fetched again", key, self._uidvalidity
                )
                continue
            uids.append(uid)
        target = self._server_name(folder)
        if target == "INBOX" or not uids:
            return

        def do_move(client: IMAPClient) -> None:
            self._ensure_folder(client, target)
            if b"MOVE" in self._caps:
                client.move(uids, target)
                return
            client.copy(uids, target)
            client.add_flags(uids, [b"\\Deleted"])
            if b"UIDPLUS" in self._caps:
                client.expunge(uids)
            elif sorted(client.search(["DELETED"])) == sorted(uids):
                # Plain EXPUNGE is only safe when ours are the only \Deleted messages.
                client.expunge()
            else:
                log.warning("%s: no UIDPLUS; leaving %s flagged \\Deleted", self.source_id, uids)

        try:
            self._run(f"move to {target}", do_move)
        except TransportError:
            if self._client is None:
                raise
            # Someone may have deleted the folder behind our cache: recreate once and retry.
            self._known_folders.discard(target)
            self._run(f"move to {target}", do_move)

    def _new_uids(self, client: IMAPClient) -> list[int]:
        client.noop()  # sync: SEARCH alone does not see mail delivered since the last sync
        # "n:*" always matches the highest UID even when it is below n: filter.
        found = client.search(["UID", f"{self._high_uid + 1}:*", "UNDELETED"])
        return [u for u in found if u > self._high_uid]

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until mail newer than the last fetch arrives (True) or `timeout` passes (False).

        Uses IDLE when the server has it, else polls every `poll_interval` seconds.
        Setting `stop` ends the wait within about a second (returns False).
        """
        deadline = time.monotonic() + max(0.0, timeout)
        if self._run("UID SEARCH", self._new_uids):
            return True
        if b"IDLE" in self.capabilities:
            return self._run("IDLE", lambda c: self._idle(c, deadline, stop))
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or (stop is not None and stop.is_set()):
                return False
            pause = min(self.poll_interval, remaining)
            if stop is not None:
                stop.wait(pause)
            else:
                time.sleep(pause)
            if self._run("UID SEARCH", self._new_uids):
                return True

    def _idle(self, client: IMAPClient, deadline: float, stop: threading.Event | None) -> bool:
        client.idle()
        try:
            arrived = self._idle_loop(client, deadline, stop)
        except (IMAPClientAbortError, OSError):
            raise  # the connection is dead: no DONE to send
        except BaseException:
            with contextlib.suppress(Exception):
                client.idle_done()
            raise
        _, responses = client.idle_done()
        return arrived or _mail_arrived(responses)

    @staticmethod
    def _idle_loop(client: IMAPClient, deadline: float, stop: threading.Event | None) -> bool:
        started = time.monotonic()
        early_empty = 0
        while True:
            now = time.monotonic()
            if now >= deadline or (stop is not None and stop.is_set()):
                return False
            if now - started >= IDLE_RENEW_SECONDS:
                _, responses = client.idle_done()
                client.idle()
                if _mail_arrived(responses):
                    return True
                started = time.monotonic()
            chunk = max(0.01, min(deadline - now, IDLE_RENEW_SECONDS - (now - started)))
            if stop is not None:
                chunk = min(chunk, 1.0)
            responses = client.idle_check(timeout=chunk)
            if _mail_arrived(responses):
                return True
            if any(len(r) >= 1 and r[0] == b"BYE" for r in responses):
                raise IMAPClientAbortError("server said BYE during IDLE")
            # imapclient swallows EOF in idle_check and returns [] at once: several
            # empty early returns in a row mean the server is gone, not quiet.
            if not responses and time.monotonic() - now < chunk / 2:
                early_empty += 1
                if early_empty >= 3:
                    raise IMAPClientAbortError("connection closed during IDLE")
            else:
                early_empty = 0


def _undeleted_uids(client: IMAPClient) -> list[int]:
    # NOOP first: Dovecot reports other sessions' expunges only at a sync point,
    # and a stale UID list would count (and try to fetch) mail already moved away.
    client.noop()
    return list(client.search(["UNDELETED"]))


def _fetch_bodies(client: IMAPClient, uids: list[int]) -> dict[int, dict[bytes, Any]]:
    result: dict[int, dict[bytes, Any]] = client.fetch(uids, ["BODY.PEEK[]"])
    return result


def _fetch_sizes(client: IMAPClient, uids: list[int]) -> dict[int, int]:
    return {uid: int(d.get(b"RFC822.SIZE", 0)) for uid, d in client.fetch(uids, ["RFC822.SIZE"]).items()}


def _fetch_part(client: IMAPClient, uid: int, start: int, length: int) -> bytes:
    got = client.fetch([uid], [f"BODY.PEEK[]<{start}.{length}>"]).get(uid, {})
    for key, value in got.items():
        if key.startswith(b"BODY[]"):
            return bytes(value or b"")
    return b""


def _mail_arrived(responses: list[Any]) -> bool:
    return any(len(r) >= 2 and r[1] in (b"EXISTS", b"RECENT") for r in responses)


def _quiet_logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # the connection is being thrown away anyway
        try:
            client.shutdown()
        except Exception:
            pass
