"""Test-side access to the store behind a `Mailbox`: deliver mail into it, count and read its folders.

mailbot itself only reads the inbox and moves mail out of it; putting mail in
and looking into folders is what the tests (and a person with a mail client)
do. These helpers live here, beside the tests, so the `Mailbox` protocol stays
the small interface the daemon needs, the way imapclient ships its test
double (`testable_imapclient.py`) apart from the real client. They reuse the
mailbox's own connection and folder naming, so a folder written
``mailbot/processed`` is found whatever the server's separator.
"""

from __future__ import annotations

import mailbox as stdlib_mailbox

from imapclient import IMAPClient

from mailbot.shell.mailbox import ImapMailbox, Mailbox, MaildirMailbox
from mailbot.shell.mailbox.imap import _undeleted_uids


def append(box: Mailbox, raw: bytes, folder: str | None = None) -> None:
    """Add `raw` to the inbox or to `folder` (created if missing), unread and without flags."""
    if isinstance(box, MaildirMailbox):
        # Delivery into new/ via tmp/, as Maildir requires.
        path = box._ensure_folder(folder)
        target = box._root if path == box.path else stdlib_mailbox.Maildir(str(path), factory=None)
        target.add(raw)
        return
    imap = _imap(box)
    target = imap._server_name(folder or imap.folder)

    def do_append(client: IMAPClient) -> None:
        imap._ensure_folder(client, target)
        client.append(target, raw, flags=())

    imap._run("APPEND", do_append)


def count(box: Mailbox, folder: str | None = None) -> int:
    """Undeleted messages in the inbox, or all messages in `folder` (0 if it does not exist)."""
    if isinstance(box, MaildirMailbox):
        return len(box._scan(box._folder_path(folder)))
    imap = _imap(box)
    if folder is None or imap._server_name(folder) == imap._server_name(imap.folder):
        return len(imap._run("UID SEARCH", _undeleted_uids))
    target = imap._server_name(folder)

    def status(client: IMAPClient) -> int:
        if not client.folder_exists(target):
            return 0
        return int(client.folder_status(target, [b"MESSAGES"])[b"MESSAGES"])

    return imap._run("STATUS", status)


def list_folder(box: Mailbox, folder: str | None = None) -> list[bytes]:
    """Raw bytes of every message in the inbox or `folder`, oldest (lowest UID) first."""
    if isinstance(box, MaildirMailbox):
        found = box._scan(box._folder_path(folder))
        out = []
        for key in box._oldest_first(found):
            try:
                out.append(found[key].read_bytes())
            except FileNotFoundError:
                continue
        return out
    imap = _imap(box)
    target = imap._server_name(folder or imap.folder)
    inbox = imap._server_name(imap.folder)

    def read(client: IMAPClient) -> list[bytes]:
        if target != inbox and not client.folder_exists(target):
            return []
        if target != inbox:
            client.select_folder(target, readonly=True)
        try:
            uids = sorted(client.search(["ALL"]))
            out: list[bytes] = []
            for i in range(0, len(uids), 200):
                data = client.fetch(uids[i : i + 200], ["BODY.PEEK[]"])
                out.extend(bytes(data[u][b"BODY[]"]) for u in uids[i : i + 200] if u in data)
            return out
        finally:
            if target != inbox:
                # Back to the inbox the mailbox reads from, as its next fetch expects.
                selected = client.select_folder(inbox)
                imap._uidvalidity = int(selected[b"UIDVALIDITY"])

    return imap._run("FETCH", read)


def _imap(box: Mailbox) -> ImapMailbox:
    if not isinstance(box, ImapMailbox):
        raise TypeError(f"not a mailbox these helpers know: {type(box).__name__}")
    return box

