"""The mailbox edge against a real Dovecot and a real Maildir: no mail lost, doubled or marked read."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from mailbot.core.errors import ConfigError, TransportError
from mailbot.shell.mailbox import ImapMailbox, Mailbox, MaildirMailbox, open_mailbox
from tests import mailstore
from tests.servers import Dovecot

pytestmark = pytest.mark.servers


def make_raw(n: int, body: str = "本单位报送信息正文。") -> bytes:
    """A CRLF message with an 8-bit UTF-8 body, as IMAP hands bytes back."""
    return (
        f"From: unit{n}@example.org\r\nTo: inbox@example.org\r\nSubject: item {n}\r\n"
        f"Message-ID: <m{n}@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body} {n}\r\n.leading dot line\r\n"
    ).encode()


def subject_number(raw: bytes) -> int:
    for line in raw.split(b"\r\n"):
        if line.startswith(b"Subject: item "):
            return int(line.split()[-1])
    raise AssertionError(raw[:200])


class Store:
    """A mailbox under test plus a second, independent handle on the same store ("another client")."""

    def __init__(self, kind: str, mailbox: Mailbox, other: Mailbox) -> None:
        self.kind = kind
        self.mb = mailbox
        self.other = other


@pytest.fixture(params=["imap", "maildir"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "imap":
        dovecot: Dovecot = request.getfixturevalue("dovecot")
        _, password, url = request.getfixturevalue("imap_account")
        mb = open_mailbox(url, password, base_dir=tmp_path)
        other = open_mailbox(url, password, base_dir=tmp_path)
        assert dovecot.running
    else:
        mb = open_mailbox("maildir://inbox", None, base_dir=tmp_path)
        other = open_mailbox("maildir://inbox", None, base_dir=tmp_path)
    try:
        yield Store(request.param, mb, other)
    finally:
        mb.close()
        other.close()


def test_fetch_returns_exact_bytes_oldest_first(store: Store) -> None:
    raws = [make_raw(i) for i in range(3)]
    for raw in raws:
        mailstore.append(store.other, raw)
    got = list(store.mb.fetch_new())
    assert [f.raw for f in got] == raws
    assert len({f.key for f in got}) == 3
    if store.kind == "imap":
        assert all(f.key == f"{f.uidvalidity}:{f.uid}" for f in got)
        assert all(f.uidvalidity == store.mb.uidvalidity for f in got)
    else:
        assert all(f.uid is None and f.uidvalidity is None for f in got)


def test_fetching_is_repeatable_until_moved(store: Store) -> None:
    mailstore.append(store.other, make_raw(1))
    first = [f.key for f in store.mb.fetch_new()]
    second = [f.key for f in store.mb.fetch_new()]
    assert first == second and len(first) == 1


def test_fetch_does_not_mark_mail_read(
    dovecot: Dovecot, imap_account: tuple[str, str, str], tmp_path: Path
) -> None:
    address, password, url = imap_account
    mb = open_mailbox(url, password, base_dir=tmp_path)
    mailstore.append(mb, make_raw(1))
    fetched = list(mb.fetch_new())
    mb.close()
    client = IMAPClient(dovecot.host, dovecot.imap_port, ssl=False)
    client.login(address, password)
    client.select_folder("INBOX", readonly=True)
    flags = client.get_flags([fetched[0].uid])
    client.logout()
    assert b"\\Seen" not in flags[fetched[0].uid]


@pytest.mark.parametrize("folder", ["mailbot/processed", "mailbot/refused", "已处理/2026"])
def test_move_creates_missing_nested_folder_and_keeps_bytes(store: Store, folder: str) -> None:
    keep, moved = make_raw(1), make_raw(2)
    mailstore.append(store.other, keep)
    mailstore.append(store.other, moved)
    target = next(f for f in store.mb.fetch_new() if f.raw == moved)
    assert mailstore.count(store.mb, folder) == 0
    store.mb.move(target.key, folder)
    assert mailstore.list_folder(store.mb, folder) == [moved]
    assert [f.raw for f in store.mb.fetch_new()] == [keep]
    assert mailstore.count(store.other) == 1


def test_move_twice_is_harmless(store: Store) -> None:
    mailstore.append(store.other, make_raw(1))
    (item,) = store.mb.fetch_new()
    store.mb.move(item.key, "mailbot/processed")
    store.mb.move(item.key, "mailbot/processed")  # replay after a crash
    store.other.move(item.key, "mailbot/processed")  # or another client replays it
    assert mailstore.count(store.mb, "mailbot/processed") == 1
    assert mailstore.count(store.mb) == 0


def test_moving_while_iterating_skips_nothing(store: Store) -> None:
    # The daemon's loop: fetch a batch, commit, move each message, go on with the next batch.
    for n in range(7):
        mailstore.append(store.other, make_raw(n))
    seen = []
    for item in store.mb.fetch_new(batch_size=2):
        seen.append(subject_number(item.raw))
        store.mb.move(item.key, "mailbot/processed" if seen[-1] % 2 else "mailbot/ignored")
    assert seen == list(range(7))
    assert mailstore.count(store.mb) == 0
    assert [subject_number(r) for r in mailstore.list_folder(store.mb, "mailbot/processed")] == [1, 3, 5]
    assert [subject_number(r) for r in mailstore.list_folder(store.mb, "mailbot/ignored")] == [0, 2, 4, 6]


def test_batch_fetch_of_500_keeps_arrival_order(store: Store, request: pytest.FixtureRequest) -> None:
    raws = [make_raw(i) for i in range(500)]
    if store.kind == "imap":
        dovecot: Dovecot = request.getfixturevalue("dovecot")
        address = request.getfixturevalue("imap_account")[0]
        dovecot.seed(address, raws)
    else:
        for raw in raws:
            mailstore.append(store.other, raw)
    got = list(store.mb.fetch_new(batch_size=50))
    assert [subject_number(f.raw) for f in got] == list(range(500))
    assert got[123].raw == raws[123]


def test_wait_wakes_when_another_client_delivers(store: Store) -> None:
    mailstore.append(store.other, make_raw(0))
    assert len(list(store.mb.fetch_new())) == 1
    timer = threading.Timer(0.3, mailstore.append, args=(store.other, make_raw(1)))
    timer.start()
    try:
        assert store.mb.wait(timeout=30) is True
    finally:
        timer.join()
    assert [subject_number(f.raw) for f in store.mb.fetch_new()] == [0, 1]


def test_wait_reports_mail_that_arrived_before_waiting(store: Store) -> None:
    assert list(store.mb.fetch_new()) == []
    mailstore.append(store.other, make_raw(1))
    assert store.mb.wait(timeout=30) is True


def test_wait_times_out_without_new_mail(store: Store) -> None:
    mailstore.append(store.other, make_raw(1))
    list(store.mb.fetch_new())  # seen but (as after a failure) left in the inbox
    assert store.mb.wait(timeout=0.5) is False


def test_stop_event_ends_wait(store: Store) -> None:
    list(store.mb.fetch_new())
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert store.mb.wait(timeout=600, stop=stop) is False


def test_uidvalidity_is_exposed_and_stable(imap_account: tuple[str, str, str], tmp_path: Path) -> None:
    _, password, url = imap_account
    mb = open_mailbox(url, password, base_dir=tmp_path)
    first = mb.uidvalidity
    mb.reconnect()
    assert isinstance(first, int) and first > 0
    assert mb.uidvalidity == first
    mb.close()


def test_server_down_raises_transport_error_then_reconnect_works(
    dovecot: Dovecot, imap_account: tuple[str, str, str], tmp_path: Path
) -> None:
    _, password, url = imap_account
    mb = open_mailbox(url, password, base_dir=tmp_path)
    mailstore.append(mb, make_raw(1))
    dovecot.stop(kill=True)
    try:
        with pytest.raises(TransportError):
            list(mb.fetch_new())
        with pytest.raises(TransportError, match="connect"):
            mb.reconnect()
    finally:
        dovecot.start()
    mb.reconnect()
    assert [subject_number(f.raw) for f in mb.fetch_new()] == [1]
    mb.close()


def test_wrong_password_is_a_transport_error(imap_account: tuple[str, str, str], tmp_path: Path) -> None:
    _, _, url = imap_account
    mb = open_mailbox(url, "wrong", base_dir=tmp_path)
    with pytest.raises(TransportError, match="login"):
        mb.fetch_new().__next__()


# -- a server without MOVE or IDLE, with "." as separator -------------------------------


@pytest.fixture(scope="module")
def plain_dovecot() -> Iterator[Dovecot]:
    server = Dovecot(extra_conf="imap_capability = IMAP4rev1 LITERAL+ UIDPLUS NAMESPACE", separator=".")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


def test_move_without_move_capability_and_dot_separator(plain_dovecot: Dovecot, tmp_path: Path) -> None:
    address, password = plain_dovecot.add_user()
    mb = open_mailbox(plain_dovecot.url_for(address), password, base_dir=tmp_path)
    assert isinstance(mb, ImapMailbox)
    assert b"MOVE" not in mb.capabilities and b"IDLE" not in mb.capabilities
    raws = [make_raw(i) for i in range(3)]
    for raw in raws:
        mailstore.append(mb, raw)
    items = list(mb.fetch_new())
    mb.move(items[1].key, "mailbot/processed")
    mb.move(items[1].key, "mailbot/processed")
    assert mailstore.list_folder(mb, "mailbot/processed") == [raws[1]]
    assert [f.raw for f in mb.fetch_new()] == [raws[0], raws[2]]
    client = IMAPClient(plain_dovecot.host, plain_dovecot.imap_port, ssl=False)
    client.login(address, password)
    names = {name for _, _, name in client.list_folders()}
    client.logout()
    assert "mailbot.processed" in names
    mb.close()


def test_wait_polls_without_idle(plain_dovecot: Dovecot, tmp_path: Path) -> None:
    address, password = plain_dovecot.add_user()
    mb = ImapMailbox(plain_dovecot.host, plain_dovecot.imap_port, address, password, poll_interval=0.2)
    other = ImapMailbox(plain_dovecot.host, plain_dovecot.imap_port, address, password)
    list(mb.fetch_new())
    timer = threading.Timer(0.3, mailstore.append, args=(other, make_raw(1)))
    timer.start()
    try:
        assert mb.wait(timeout=30) is True
    finally:
        timer.join()
        other.close()
        mb.close()


# -- Maildir specifics ---------------------------------------------------------------------


def test_maildir_folders_are_maildirplusplus(tmp_path: Path) -> None:
    mb = MaildirMailbox(tmp_path / "inbox")
    mailstore.append(mb, make_raw(1))
    (item,) = mb.fetch_new()
    mb.move(item.key, "mailbot/processed")
    folder = tmp_path / "inbox" / ".mailbot.processed"
    assert (folder / "maildirfolder").exists()
    files = list((folder / "new").iterdir()) + list((folder / "cur").iterdir())
    assert [p.read_bytes() for p in files] == [make_raw(1)]


def test_maildir_oldest_first_by_delivery_name_not_listing_order(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    MaildirMailbox(root)
    # Dovecot-style names: seconds, then microseconds; written newest first on purpose.
    for n, name in [
        (3, "1700000002.M5P1.host"),
        (2, "1700000001.M900000P1.host"),
        (1, "1700000001.M12P1.host"),
    ]:
        (root / "cur" / f"{name}:2,S").write_bytes(make_raw(n))
    mb = MaildirMailbox(root)
    assert [subject_number(f.raw) for f in mb.fetch_new()] == [1, 2, 3]


# -- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host", "port", "user", "folder", "ssl"),
    [
        (
            "imap://inbox%40example.org@127.0.0.1:10143/INBOX",
            "127.0.0.1",
            10143,
            "inbox@example.org",
            "INBOX",
            False,
        ),
        (
            "imaps://inbox%40example.org@mail.example.org/INBOX",
            "mail.example.org",
            993,
            "inbox@example.org",
            "INBOX",
            True,
        ),
        ("imap://bot@mail.example.org", "mail.example.org", 143, "bot", "INBOX", False),
        ("imap://bot@h:1/%E6%8A%A5%E9%80%81", "h", 1, "bot", "报送", False),
    ],
)
def test_imap_urls(url: str, host: str, port: int, user: str, folder: str, ssl: bool) -> None:
    mb = open_mailbox(url, "pw", base_dir=Path("/srv"))
    assert isinstance(mb, ImapMailbox)
    assert (mb.host, mb.port, mb.username, mb.folder, mb.use_ssl) == (host, port, user, folder, ssl)
    assert "pw" not in mb.source_id


def test_maildir_urls_relative_to_base_dir_or_absolute(tmp_path: Path) -> None:
    base = tmp_path / "srv"
    rel = open_mailbox("maildir://var/inbox", None, base_dir=base)
    absolute = open_mailbox(f"maildir://{tmp_path}/data/inbox", None, base_dir=base)
    assert isinstance(rel, MaildirMailbox) and isinstance(absolute, MaildirMailbox)
    assert rel.path == base / "var" / "inbox"
    assert absolute.path == tmp_path / "data" / "inbox"
    assert absolute.source_id == f"maildir:{tmp_path}/data/inbox"
    assert (rel.path / "new").is_dir() and (absolute.path / "cur").is_dir()


@pytest.mark.parametrize(
    "url",
    [
        "pop3://u@h/INBOX",
        "imap://127.0.0.1:143/INBOX",  # no user
        "imap://u@:143/INBOX",  # no host
        "imap://u@h:notaport/INBOX",
        "imap://u@h/INBOX?verify=0",  # unknown option
        "maildir://",
        "just-a-path",
    ],
)
def test_bad_urls_name_the_key(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        open_mailbox(url, "pw", base_dir=Path("/srv"), config_file="config/mailbot.toml")
    assert info.value.key == "mailbox.url"
    assert info.value.file == "config/mailbot.toml"


def test_password_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "imap://u:from-url@h/INBOX"
    monkeypatch.setenv("MAILBOT_IMAP_PASSWORD", "from-env")
    mb = open_mailbox(url, "from-arg", base_dir=Path("/"))
    assert isinstance(mb, ImapMailbox) and mb._password == "from-arg"
    mb = open_mailbox(url, None, base_dir=Path("/"))
    assert isinstance(mb, ImapMailbox) and mb._password == "from-env"
    monkeypatch.delenv("MAILBOT_IMAP_PASSWORD")
    mb = open_mailbox(url, None, base_dir=Path("/"))
    assert isinstance(mb, ImapMailbox) and mb._password == "from-url"
    assert "from-url" not in mb.source_id
    with pytest.raises(ConfigError, match="password"):
        open_mailbox("imap://u@h/INBOX", None, base_dir=Path("/"))


def test_idle_is_renewed_and_still_wakes(
    imap_account: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailbot.shell.mailbox.imap

    # Renew every 0.6 s instead of 29 min: two DONE/IDLE cycles happen before the mail.
    monkeypatch.setattr(mailbot.shell.mailbox.imap, "IDLE_RENEW_SECONDS", 0.6)
    _, password, url = imap_account
    mb = open_mailbox(url, password, base_dir=tmp_path)
    other = open_mailbox(url, password, base_dir=tmp_path)
    list(mb.fetch_new())
    timer = threading.Timer(1.5, mailstore.append, args=(other, make_raw(1)))
    timer.start()
    try:
        assert mb.wait(timeout=30) is True
    finally:
        timer.join()
        other.close()
    assert [subject_number(f.raw) for f in mb.fetch_new()] == [1]
    mb.close()


def test_server_dying_during_idle_raises_transport_error(
    dovecot: Dovecot, imap_account: tuple[str, str, str], tmp_path: Path
) -> None:
    _, password, url = imap_account
    mb = open_mailbox(url, password, base_dir=tmp_path)
    list(mb.fetch_new())
    killer = threading.Timer(0.3, dovecot.stop, kwargs={"kill": True})
    killer.start()
    started = time.monotonic()
    try:
        with pytest.raises(TransportError):
            mb.wait(timeout=120)
        # Noticed the dead socket rather than running into the 120 s wait and failing on DONE.
        assert time.monotonic() - started < 60
    finally:
        killer.join()
        dovecot.start()
    mb.reconnect()
    assert list(mb.fetch_new()) == []
    mb.close()
