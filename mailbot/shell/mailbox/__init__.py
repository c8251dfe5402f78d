"""The incoming edge: the office mailbox behind one small interface, over IMAP or a local Maildir.

`base` holds the interface (`Mailbox`, `Fetched`) and the rules every
implementation keeps; `imap` and `maildir` are the two real implementations;
`open_mailbox` here picks one from a SPEC §9 ``[mailbox] url``. Putting mail
into a mailbox and reading its folders is for tests: see tests/mailstore.py.
"""

from __future__ import annotations

from pathlib import Path

from mailbot.core.errors import ConfigError
from mailbot.shell.endpoint import local_path, parse_server_url
from mailbot.shell.mailbox.base import Fetched, Mailbox
from mailbot.shell.mailbox.imap import ImapMailbox
from mailbot.shell.mailbox.maildir import MaildirMailbox

__all__ = ["PASSWORD_ENV", "Fetched", "ImapMailbox", "Mailbox", "MaildirMailbox", "open_mailbox"]

PASSWORD_ENV = "MAILBOT_IMAP_PASSWORD"


def open_mailbox(
    url: str,
    password: str | None,
    *,
    base_dir: Path,
    config_file: str = "",
    timeout: float = 60.0,
    poll_interval: float = 60.0,
    spool_over: int | None = None,
    spool_dir: Path | None = None,
) -> Mailbox:
    """Build the mailbox for a SPEC §9 `[mailbox] url`; no network I/O happens until first use.

    ``imap://user%40dom@host:port/FOLDER`` (plain), ``imaps://…`` (TLS; add
    ``?insecure=1`` to accept a self-signed certificate), ``imap://…?starttls=1``,
    ``maildir://rel/path`` (relative to `base_dir`) or ``maildir:///abs/path``.
    The password comes from `password`, else $MAILBOT_IMAP_PASSWORD, else the URL.
    """

    def bad(problem: str) -> ConfigError:
        return ConfigError(file=config_file, key="mailbox.url", problem=problem)

    scheme, sep, rest = url.partition(":")
    scheme = scheme.lower()
    if not sep:
        raise bad(f"not a URL: {url!r} (expected imap://, imaps:// or maildir://)")
    if scheme == "maildir":
        path_text = rest[2:] if rest.startswith("//") else rest
        if not path_text:
            raise bad("maildir URL without a path")
        return MaildirMailbox(local_path(path_text, base_dir), spool_over=spool_over)
    if scheme not in ("imap", "imaps"):
        raise bad(f"unsupported scheme {scheme!r} (expected imap://, imaps:// or maildir://)")
    server = parse_server_url(
        url,
        key="mailbox.url",
        config_file=config_file,
        default_port=993 if scheme == "imaps" else 143,
        options=frozenset({"insecure", "starttls"}),
        password=password,
        password_env=PASSWORD_ENV,
        timeout=timeout,
    )
    if not server.user:
        raise bad(f"no user in {url!r} (write it as imap://user%40example.org@host:port/INBOX)")
    if not server.secret:
        raise bad(f"no password: set mailbox.password, ${PASSWORD_ENV} or put it in the URL")
    return ImapMailbox(
        server.host,
        server.port,
        server.user,
        server.secret,
        folder=server.path or "INBOX",
        use_ssl=scheme == "imaps",
        starttls=server.flag("starttls"),
        verify_cert=not server.flag("insecure"),
        timeout=server.timeout,
        poll_interval=poll_interval,
        spool_over=spool_over,
        spool_dir=spool_dir,
    )
