"""The application-layer calls the CLI and the daemon make instead of holding sessions, without servers.

The commands themselves are run end to end elsewhere (test_practice, test_daemon, test_health);
these check the calls' own contracts: what a heartbeat writes, `status` reads back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from mailbot.app import queries, review, status
from mailbot.app.context import Runtime
from mailbot.core.submission.units import Unit, UnitDirectory
from mailbot.shell.config import load_config
from mailbot.shell.db.models import Setting
from mailbot.shell.db.store import session_scope
from tests.office import make_office


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    office = make_office(tmp_path / "o", mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox")
    runtime = Runtime(load_config(office.config))
    runtime.engine  # noqa: B018 - creates the database
    yield runtime
    runtime.close()


def settings(rt: Runtime) -> dict[str, str]:
    with session_scope(rt.engine) as s:
        return {row.key: row.value for row in s.exec(select(Setting)).all()}


def test_the_daemons_heartbeats_are_what_status_reads(rt: Runtime) -> None:
    sid = rt.mailbox.source_id
    status.note_started(rt)
    status.note_polled(rt, sid)
    status.note_idle(rt, sid, True)
    assert status.note_failing(rt, sid, OSError("connection refused"), None) is True
    # Once per outage: a mailbox known to be failing keeps the time its failure began.
    first = settings(rt)[status.failing_key(sid)]
    assert status.note_failing(rt, sid, OSError("still refused"), True) is True
    assert settings(rt)[status.failing_key(sid)] == first

    beat = status.read_beat(sid, settings(rt), None)
    assert beat.last_poll is not None and abs(beat.last_poll - rt.now()) < dt.timedelta(minutes=1)
    assert beat.idle is True
    assert beat.failing_since is not None and beat.error == "OSError: connection refused"
    assert status.health(rt)["daemon"]["idle"] is False

    status.note_idle(rt, sid, False)
    status.note_recovered(rt, sid)
    beat = status.read_beat(sid, settings(rt), None)
    assert beat.idle is False and beat.failing_since is None


def test_poll_once_marks_every_mailbox_polled(rt: Runtime) -> None:
    status.note_polled(rt)
    polled = settings(rt)[status.ALL_MAILBOXES_POLLED]
    assert status.read_beat(rt.mailbox.source_id, {}, dt.datetime.fromisoformat(polled)).last_poll is not None


def test_imported_units_are_seen_at_once(rt: Runtime) -> None:
    known = rt.directory().units
    new = Unit(id="ZZ99", name="测试新单位", series=known[0].series, officers=("zz99@example.org",))
    rt.import_units(UnitDirectory([new]))
    unit = rt.directory().get("ZZ99")
    assert unit is not None and unit.officers == ("zz99@example.org",)
    assert len(rt.directory().units) == len(known) + 1


def test_an_empty_desk_has_nothing_to_decide_or_list(rt: Runtime) -> None:
    assert review.decide(rt, "2026-9999", [], by="cli", at=rt.now(), source="采用") is None
    assert review.decide(rt, "R2026-0001", [], by="cli", at=rt.now(), source="采用") is None
    assert queries.items(rt, status=None, unit=None, period=None) == []
    assert queries.item(rt, "2026-9999") is None
    assert queries.messages(rt) == []
    assert queries.commissions(rt) == []
    assert queries.first_use(rt) is None
    assert queries.issued_bulletins(rt) == []
