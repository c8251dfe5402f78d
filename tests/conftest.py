"""Shared pytest fixtures: real Dovecot and a real SMTP capture server on loopback.

One Dovecot serves the whole session; each test gets a fresh user (an empty
mailbox) instead of a restart, which keeps server tests fast and isolated.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.servers import INSTALL_HINT, Dovecot, SmtpCapture

if TYPE_CHECKING:
    from tests.system.test_daemon import Daemons


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """The session's Dovecot (IMAP with IDLE and MOVE, plus LMTP), started once.

    Fails (never skips) when Dovecot is missing: CI installs it.
    """
    if shutil.which("dovecot") is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def imap_account(dovecot: Dovecot) -> Iterator[tuple[str, str, str]]:
    """A fresh, empty account on the session Dovecot: (address, password, imap:// URL without password)."""
    # A fault test may have stopped the server and failed before restarting it.
    dovecot.start()
    address, password = dovecot.add_user()
    yield address, password, dovecot.url_for(address)
    dovecot.start()


@pytest.fixture
def smtp_capture() -> Iterator[SmtpCapture]:
    """An aiosmtpd server on a free loopback port that records every message it accepts."""
    server = SmtpCapture()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def smtp_to_imap(dovecot: Dovecot) -> Iterator[SmtpCapture]:
    """An SMTP server that records each message and delivers it to the session Dovecot via LMTP."""
    server = SmtpCapture(relay_to=dovecot)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[Daemons]:
    """Starts `mailbot run` subprocesses; any still running when the test ends is killed."""
    from tests.system.test_daemon import Daemons

    ds = Daemons(tmp_path / "logs")
    try:
        yield ds
    finally:
        ds.cleanup()
