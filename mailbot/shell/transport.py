"""The outgoing edge: hand one finished message to an SMTP server or drop it as an .eml file.

The outbox decides what to send and when to retry; a transport only delivers
and reports, through two errors, whether a retry can help:

- `TransportError`: temporary (server down, timeout, 4xx) — retry later;
- `PermanentSendError`: the server refused the message for good (5xx) — don't.

Each message carries a stable Message-ID chosen by the caller, so a retry after
an unclear failure can be recognised downstream; `FileTransport` uses it as the
file name, which makes writing the same message twice a no-op.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import ssl
import tempfile
from collections.abc import Coroutine, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import aiosmtplib

from mailbot.core.errors import ConfigError, PermanentSendError, TransportError
from mailbot.shell.endpoint import local_path, parse_server_url

log = logging.getLogger(__name__)

PASSWORD_ENV = "MAILBOT_SMTP_PASSWORD"

T = TypeVar("T")


@runtime_checkable
class Transport(Protocol):
    """Where outgoing mail goes."""

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str], message_id: str) -> None:
        """Deliver `raw` to `rcpt_to`; raise TransportError (retry) or PermanentSendError (don't)."""
        ...

    def open(self) -> None:
        """Prepare for several sends (e.g. keep one SMTP connection); optional."""
        ...

    def close(self) -> None:
        """Release whatever `open` or `send` kept."""
        ...


# -- SMTP -----------------------------------------------------------------------------------


class SmtpSecurity(StrEnum):
    PLAIN = "plain"
    TLS = "tls"  # implicit TLS (smtps://, port 465)
    STARTTLS = "starttls"


class SmtpTransport:
    """Sends through an SMTP server with aiosmtplib, driven from synchronous code by a private loop.

    Use as a context manager (or `open()`/`close()`) to reuse one connection for
    many sends; a bare `send()` connects, sends and quits. Not thread-safe.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        security: SmtpSecurity = SmtpSecurity.PLAIN,
        username: str | None = None,
        password: str | None = None,
        verify_cert: bool = True,
        timeout: float = 60.0,
        local_hostname: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.verify_cert = verify_cert
        self.timeout = timeout
        self.local_hostname = local_hostname
        self._password = password
        self._loop: asyncio.AbstractEventLoop | None = None
        self._smtp: aiosmtplib.SMTP | None = None
        self._keep_open = False

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(coro)

    def _client(self) -> aiosmtplib.SMTP:
        context = ssl.create_default_context()
        if not self.verify_cert:
            # Self-signed test or intranet relays, opted into with ?insecure=1.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self._password if self.username else None,
            local_hostname=self.local_hostname,
            timeout=self.timeout,
            use_tls=self.security is SmtpSecurity.TLS,
            start_tls=self.security is SmtpSecurity.STARTTLS,
            tls_context=context if self.security is not SmtpSecurity.PLAIN else None,
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        smtp = self._client()
        try:
            await smtp.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            smtp.close()
            raise TransportError(f"SMTP login as {self.username} at {self.where} refused: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise TransportError(f"cannot connect to SMTP server {self.where}: {exc}") from exc
        return smtp

    async def _live(self) -> aiosmtplib.SMTP:
        smtp = self._smtp
        if smtp is not None and smtp.is_connected:
            try:
                # A reused connection may have been dropped by the server's idle timeout.
                await smtp.noop()
                return smtp
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
        self._smtp = None
        smtp = await self._connect()
        if self._keep_open:
            self._smtp = smtp
        return smtp

    async def _send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        smtp = await self._live()
        try:
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            options = []
            if any(b > 0x7F for b in raw) and smtp.supports_extension("8bitmime"):
                options.append("BODY=8BITMIME")
            if not all(a.isascii() for a in (mail_from, *rcpt_to)) and smtp.supports_extension("smtputf8"):
                options.append("SMTPUTF8")
            errors, _ = await smtp.sendmail(mail_from, list(rcpt_to), raw, mail_options=options)
            if errors:
                # Some got it, so a retry would double it for them: report, don't raise.
                log.warning(
                    "SMTP %s refused some recipients: %s", self.where, {a: str(r) for a, r in errors.items()}
                )
        finally:
            if not self._keep_open:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError):
                    smtp.close()

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str], message_id: str) -> None:
        """Send `raw` as is (CRLF line endings expected; dots are stuffed by the client)."""
        if not rcpt_to:
            raise PermanentSendError(f"{message_id}: no recipients")
        try:
            self._run(self._send(raw, mail_from, rcpt_to))
        except TransportError:
            raise
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            if all(500 <= c < 600 for c in codes):
                raise PermanentSendError(
                    f"{message_id}: every recipient refused by {self.where}: {detail}"
                ) from exc
            raise TransportError(f"{message_id}: recipients deferred by {self.where}: {detail}") from exc
        except aiosmtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise TransportError(f"SMTP login at {self.where} refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            # A connection that saw an error reply mid-transaction is not worth reusing.
            self._drop()
            text = f"{message_id}: {self.where} answered {exc.code} {exc.message}"
            if 500 <= exc.code < 600:
                raise PermanentSendError(text) from exc
            raise TransportError(text) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._drop()
            raise TransportError(f"{message_id}: sending via {self.where} failed: {exc}") from exc

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def open(self) -> None:
        """Keep one connection for the following sends (opened lazily, re-opened if dropped)."""
        self._keep_open = True

    def close(self) -> None:
        """QUIT the kept connection, if any, and stop the private event loop."""
        self._keep_open = False
        smtp, self._smtp = self._smtp, None
        if smtp is not None and self._loop is not None and not self._loop.is_closed():
            try:
                self._run(smtp.quit())
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()
        self._loop = None

    def __enter__(self) -> SmtpTransport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- files ------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+=-]")


def eml_name(message_id: str) -> str:
    """File name for a Message-ID: readable when the id is tame, always distinct for distinct ids."""
    bare = message_id.strip().strip("<>")
    safe = _UNSAFE.sub("_", bare).lstrip(".")
    if safe == bare and 0 < len(safe) <= 150:
        return f"{safe}.eml"
    digest = hashlib.sha256(message_id.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{safe[:100]}-{digest}.eml"


class FileTransport:
    """Writes each message to DIR/<message-id>.eml atomically; the same Message-ID twice is one file."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).absolute()

    def path_for(self, message_id: str) -> Path:
        return self.directory / eml_name(message_id)

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str], message_id: str) -> None:
        """Write `raw` to its .eml file (tmp, fsync, rename); a file already there wins."""
        target = self.path_for(message_id)
        if target.exists():
            log.info("%s already in %s: not written again", message_id, self.directory)
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.directory)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(raw)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)  # the rename itself must survive a crash
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise TransportError(f"{message_id}: cannot write {target}: {exc}") from exc

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


# -- URLs --------------------------------------------------------------------------------------

_SCHEMES = {
    "smtp": (SmtpSecurity.PLAIN, 25),
    "smtps": (SmtpSecurity.TLS, 465),
    "smtp+starttls": (SmtpSecurity.STARTTLS, 587),
}


def open_transport(
    url: str,
    password: str | None,
    *,
    base_dir: Path,
    config_file: str = "",
    timeout: float = 60.0,
) -> Transport:
    """Build the transport for a SPEC §9 `[smtp] url`; nothing connects until the first send.

    ``smtp://host:port`` (plain), ``smtps://`` (implicit TLS), ``smtp+starttls://``,
    optional ``user%40dom[:password]@`` and ``?insecure=1`` (accept a self-signed
    certificate); ``file://var/outbox`` (relative to `base_dir`) or ``file:///abs``.
    The password comes from `password`, else $MAILBOT_SMTP_PASSWORD, else the URL.
    """

    def bad(problem: str) -> ConfigError:
        return ConfigError(file=config_file, key="smtp.url", problem=problem)

    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep:
        raise bad(f"not a URL: {url!r} (expected smtp://, smtps://, smtp+starttls:// or file://)")
    if scheme == "file":
        if not rest:
            raise bad("file URL without a directory")
        return FileTransport(local_path(rest, base_dir))
    if scheme not in _SCHEMES:
        raise bad(f"unsupported scheme {scheme!r} (expected smtp://, smtps://, smtp+starttls:// or file://)")
    security, default_port = _SCHEMES[scheme]
    server = parse_server_url(
        url,
        key="smtp.url",
        config_file=config_file,
        default_port=default_port,
        options=frozenset({"insecure"}),
        password=password,
        password_env=PASSWORD_ENV,
        timeout=timeout,
    )
    if server.user and not server.secret:
        raise bad(f"user {server.user} but no password: set it in the URL or ${PASSWORD_ENV}")
    return SmtpTransport(
        server.host,
        server.port,
        security=security,
        username=server.user,
        password=server.secret if server.user else None,
        verify_cert=not server.flag("insecure"),
        timeout=server.timeout,
    )
