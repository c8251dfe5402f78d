"""Real mail servers on loopback for the test suite: Dovecot (IMAP + LMTP) and an aiosmtpd capture.

Tests talk to real servers instead of mocks, so the fixtures must be fast and
leave nothing behind. The recipe (paths, ownership, ports, pitfalls) is in
/work/shared/notes/mailserver.md; the comments below say why each step exists.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
DOMAIN = "example.org"
INSTALL_HINT = (
    "Dovecot is not installed: run `apt-get install -y --no-install-recommends dovecot-imapd dovecot-lmtpd`"
    " (CI does this in its install step)."
)

_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = dovecot-test-{imap_port}
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_uid = nobody
mail_gid = nogroup
mail_location = maildir:{root}/mail/%d/%n/Maildir
mail_fsync = never
mail_max_userip_connections = 100
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = home={root}/mail/%d/%n
}}
namespace inbox {{
  inbox = yes
  separator = {separator}
  mailbox Archive {{
    auto = create
    special_use = \\Archive
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp_port}
  }}
}}
protocol lmtp {{
  postmaster_address = postmaster@example.org
}}
{extra}
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _nobody() -> tuple[int, int]:
    import grp
    import pwd

    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid


class Dovecot:
    """One Dovecot instance in its own temp ROOT, on fixed free ports for its whole life.

    `extra_conf` is appended to dovecot.conf (e.g. ``imap_capability = IMAP4rev1 UIDPLUS``
    to test clients against a server without MOVE or IDLE). `separator` is the
    hierarchy separator of the inbox namespace (``/`` or ``.``).
    """

    def __init__(self, *, extra_conf: str = "", separator: str = "/") -> None:
        if shutil.which("dovecot") is None:
            raise RuntimeError(INSTALL_HINT)
        self.host = HOST
        self.imap_port = free_port()
        self.lmtp_port = free_port()
        # Not pytest's tmp_path: its base dir is 0700 and the auth process (user
        # dovecot) could not read the users file ("Temporary authentication failure").
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-dovecot-"))
        self.root.chmod(0o755)
        self._uid, self._gid = _nobody()
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", self._uid, self._gid)
        self.users_dir = self.root / "users"
        self.users_dir.mkdir()
        self.users_dir.chmod(0o755)
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(
            _CONF.format(
                root=self.root,
                imap_port=self.imap_port,
                lmtp_port=self.lmtp_port,
                separator=separator,
                extra=extra_conf,
            )
        )
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle -------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        """Start Dovecot and return once the IMAP port sends its `* OK` greeting."""
        if self.running:
            return
        self._proc = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                self._proc = None
                raise RuntimeError(f"dovecot exited at start:\n{err}\n{self.log()}")
            # The port opens before auth is up: only the greeting means "ready".
            try:
                with socket.create_connection((self.host, self.imap_port), timeout=1.0) as s:
                    if s.recv(64).startswith(b"* OK"):
                        return
            except OSError:
                pass
            time.sleep(0.02)
        self.stop(kill=True)
        raise RuntimeError(f"dovecot gave no IMAP greeting within {timeout} s:\n{self.log()}")

    def stop(self, *, kill: bool = False) -> None:
        """Stop Dovecot: SIGTERM (~1 s) or, with kill=True, SIGKILL the whole process group (~2 ms)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            if not kill:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    kill = True
            if kill or proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(10)
        # Children (imap, auth, lmtp) may outlive a SIGTERMed master for a moment.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.stderr:
            proc.stderr.close()

    def restart(self) -> None:
        self.stop(kill=True)
        self.start()

    def cleanup(self) -> None:
        """Stop and delete ROOT."""
        self.stop(kill=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else "(no dovecot.log)"

    # -- accounts --------------------------------------------------------------

    def add_user(self, name: str | None = None, password: str = "secret") -> tuple[str, str]:
        """Add a user (default `t_<uuid>@example.org`) (its own passwd-file, live at once); returns (address, password)."""
        address = name or f"t_{uuid.uuid4().hex[:12]}@{DOMAIN}"
        if "@" not in address:
            address = f"{address}@{DOMAIN}"
        # One passwd-file per user: Dovecot re-checks a passwd-file at most once a
        # second, so a user appended to a shared file can stay unknown for a second.
        path = self.users_dir / address
        if path.exists():
            raise ValueError(f"user {address} exists already")
        tmp = path.with_name("." + address)
        tmp.write_text(f"{address}:{{PLAIN}}{password}::::::\n")
        tmp.chmod(0o644)
        tmp.rename(path)
        return address, password

    def url_for(self, address: str, folder: str = "INBOX") -> str:
        """The SPEC-style imap:// URL for `address` (the password is not in it)."""
        user = address.replace("@", "%40")
        return f"imap://{user}@{self.host}:{self.imap_port}/{folder}"

    def maildir_of(self, address: str) -> Path:
        local, _, domain = address.partition("@")
        return self.root / "mail" / domain / local / "Maildir"

    def seed(self, address: str, raws: Iterable[bytes], *, folder: str | None = None) -> int:
        """Write messages straight into the user's Maildir/cur, oldest first (10k in ~3 s).

        Names carry an increasing microsecond part so Dovecot assigns UIDs in the
        given order. Returns how many were written.
        """
        base = self.maildir_of(address)
        if folder:
            base = base / ("." + folder.replace("/", "."))
        self._make_dirs(base)
        cur = base / "cur"
        stamp = int(time.time())
        tag = uuid.uuid4().hex[:8]
        n = 0
        for n, raw in enumerate(raws, start=1):
            path = cur / f"{stamp}.M{n:06d}P{os.getpid()}Q{tag}.seed,S={len(raw)}:2,"
            path.write_bytes(raw)
            os.chown(path, self._uid, self._gid)
        return n

    def _make_dirs(self, maildir: Path) -> None:
        # Every directory Dovecot may write into must belong to the mail uid.
        mail_root = self.root / "mail"
        rel = maildir.relative_to(mail_root)
        cur = mail_root
        for part in rel.parts:
            cur = cur / part
            if not cur.exists():
                cur.mkdir()
                os.chown(cur, self._uid, self._gid)
        for sub in ("cur", "new", "tmp"):
            d = maildir / sub
            if not d.exists():
                d.mkdir()
                os.chown(d, self._uid, self._gid)
        if maildir.name.startswith("."):
            marker = maildir / "maildirfolder"
            marker.touch()
            os.chown(marker, self._uid, self._gid)


# -- SMTP capture -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Captured:
    """One message as the capture server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes


@dataclass
class _Handler:
    messages: list[Captured] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    data_reply: str | None = None
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    lmtp: tuple[str, int] | None = None

    def _relay(self, envelope: Any) -> str | None:
        # SMTP -> Dovecot LMTP without an MTA: what the office's mail server would do.
        try:
            with smtplib.LMTP(*self.lmtp) as lmtp:  # type: ignore[misc]
                lmtp.sendmail(envelope.mail_from, envelope.rcpt_tos, envelope.original_content)
        except smtplib.SMTPRecipientsRefused as exc:
            return "550 5.1.1 " + "; ".join(sorted(exc.recipients))
        except (smtplib.SMTPException, OSError) as exc:
            return f"451 4.3.0 LMTP relay failed: {exc}"
        return None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        if self.lmtp is not None:
            reply = await asyncio.get_running_loop().run_in_executor(None, self._relay, envelope)
            if reply is not None:
                return reply
        captured = Captured(
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            content=bytes(envelope.original_content or envelope.content),
        )
        with self.cond:
            self.messages.append(captured)
            self.cond.notify_all()
        return "250 OK"


class SmtpCapture:
    """An aiosmtpd server on 127.0.0.1 recording every envelope; stop()/start() keep the port.

    Set `data_reply` (e.g. ``"451 4.3.0 try later"`` or ``"550 5.7.1 no"``) to answer
    DATA with that line instead of accepting, and `rcpt_replies[address]` to refuse
    one recipient at RCPT. With `relay_to`, accepted mail is also delivered to
    that Dovecot over LMTP (unknown users get 550), so it shows up in IMAP.
    """

    def __init__(self, *, relay_to: Dovecot | None = None) -> None:
        self.host = HOST
        self.port = free_port()
        self._handler = _Handler()
        if relay_to is not None:
            self._handler.lmtp = (relay_to.host, relay_to.lmtp_port)
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[Captured]:
        with self._handler.cond:
            return list(self._handler.messages)

    @property
    def data_reply(self) -> str | None:
        return self._handler.data_reply

    @data_reply.setter
    def data_reply(self, value: str | None) -> None:
        self._handler.data_reply = value

    @property
    def rcpt_replies(self) -> dict[str, str]:
        return self._handler.rcpt_replies

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(self._handler, hostname=self.host, port=self.port, ready_timeout=10)
        for _ in range(50):
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                # A just-closed listener on the same port may need a moment to go away.
                time.sleep(0.05)
        else:
            controller.start()
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Captured]:
        """Block until at least `n` messages arrived; returns them, or raises AssertionError."""
        with self._handler.cond:
            ok = self._handler.cond.wait_for(lambda: len(self._handler.messages) >= n, timeout)
            got = list(self._handler.messages)
        if not ok:
            raise AssertionError(f"expected {n} messages within {timeout} s, got {len(got)}")
        return got

    def clear(self) -> None:
        with self._handler.cond:
            self._handler.messages.clear()
