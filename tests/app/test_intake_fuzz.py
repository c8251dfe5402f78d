"""The whole intake on randomly corrupted real mails: it never raises, every mail gets a disposition.

Real corpus mails (../shared/corpus/real-world) are truncated, have bytes flipped,
headers duplicated and MIME boundaries removed, and are optionally re-addressed from
a registered officer with a valid subject, so that they reach the deep end of the
intake (document extraction, filing, receipts and review requests with the broken
attachments). Runs in-process on a Maildir + file outbox for speed; the subject,
reply-command and quote parsers are fuzzed on their own in test_subject.py,
test_replies.py and test_quotes.py.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from mailbot.app.context import Runtime
from mailbot.app.intake import poll_once
from mailbot.shell.archive import digest
from mailbot.shell.config import load_config
from mailbot.shell.db.models import Disposition, MessageRow
from mailbot.shell.db.store import session_scope
from mailbot.shell.outbox import deliver
from tests import corpus_report
from tests.office import make_office

pytestmark = corpus_report.needs_corpus

OFFICER = "qx01@gz.example.org"  # 越秀区政府 in config/units.toml
SUBJECT = "=?UTF-8?B?5qCH6aKY77ya6LaK56eA5Yy65byA5bGV5a6J5YWo5qOA5p+l77yb5Y2V5L2N77ya6LaK56eA5Yy65pS/5bqc77yb562+5Y+R5Lq677ya5byg5LiJ77yb5oql6YCB5Lq677ya5p2O5Zub77yb55S16K+d77yaMDIwLTgzMTIzNDU2?="
FILES = corpus_report.corpus_files()
_HEADER_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:.*(?:\r?\n[ \t].*)*\r?\n?", re.MULTILINE)
_BOUNDARY_PARAM = re.compile(rb'boundary\s*=\s*"?([^";\r\n]+)"?', re.IGNORECASE)


@dataclass
class Desk:
    """A Maildir office run in-process."""

    rt: Runtime
    inbox: Path
    n: int = 0

    def put(self, raw: bytes) -> None:
        self.n += 1
        (self.inbox / "new" / f"{1_700_000_000 + self.n}.M{self.n}P1.fuzz").write_bytes(raw)

    def disposition(self, raw: bytes) -> str | None:
        with session_scope(self.rt.engine) as s:
            row = s.exec(select(MessageRow).where(MessageRow.sha256 == digest(raw))).first()
            return None if row is None else str(row.disposition)


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    root = tmp_path_factory.mktemp("fuzz-office")
    office = make_office(root, mailbox_url="maildir://inbox", smtp_url="file://outbox")
    rt = Runtime(load_config(office.config))
    inbox = root / "inbox"
    for sub in ("new", "cur", "tmp"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    yield Desk(rt, inbox)
    rt.close()


# ---------------------------------------------------------------- corruptions (pure: bytes → bytes)


def truncate(raw: bytes, at: float) -> bytes:
    """Cut the mail anywhere (a connection dropped mid-transfer)."""
    return raw[: int(len(raw) * at)]


def flip(raw: bytes, at: float, value: int) -> bytes:
    """Replace one byte (a bad disk, a broken relay)."""
    if not raw:
        return raw
    i = min(len(raw) - 1, int(len(raw) * at))
    return raw[:i] + bytes([value]) + raw[i + 1 :]


def duplicate_header(raw: bytes, which: float, times: int) -> bytes:
    """Repeat one header line (two Subjects, two Content-Types, two Froms …)."""
    end = _HEADER_END.search(raw)
    head_end = end.start() + 1 if end else len(raw)
    lines = list(_HEADER_LINE.finditer(raw, 0, head_end))
    if not lines:
        return raw
    m = lines[min(len(lines) - 1, int(len(lines) * which))]
    line = m.group(0) if m.group(0).endswith(b"\n") else m.group(0) + b"\n"
    return raw[: m.end()] + (b"\n" if not m.group(0).endswith(b"\n") else b"") + line * times + raw[m.end() :]


def drop_boundaries(raw: bytes) -> bytes:
    """Remove every boundary line (the parts run into each other) or, with none, the parameter."""
    out = raw
    for b in set(_BOUNDARY_PARAM.findall(raw)):
        out = re.sub(rb"^--" + re.escape(b.strip()) + rb"(?:--)?[ \t]*\r?$\n?", b"", out, flags=re.MULTILINE)
    return out if out != raw else _BOUNDARY_PARAM.sub(b"", raw)


def as_officer(raw: bytes) -> bytes:
    """The mail as if a registered officer sent it with a valid subject: it reaches the filing path."""
    end = _HEADER_END.search(raw)
    head_end = end.start() + 1 if end else len(raw)
    head = _HEADER_LINE.sub(
        lambda m: (
            b""
            if re.match(rb"(?i)(from|subject|sender|auto-submitted|precedence|list-id):", m.group(0))
            else m.group(0)
        ),
        raw[:head_end],
    )
    return b"From: " + OFFICER.encode() + b"\nSubject: " + SUBJECT.encode() + b"\n" + head + raw[head_end:]


Op = Callable[[bytes], bytes]
ops = st.one_of(
    st.builds(lambda at: lambda r: truncate(r, at), st.floats(0, 1)),
    st.builds(lambda at, v: lambda r: flip(r, at, v), st.floats(0, 1), st.integers(0, 255)),
    st.builds(lambda w, n: lambda r: duplicate_header(r, w, n), st.floats(0, 1), st.integers(1, 50)),
    st.just(drop_boundaries),
)


def _check(desk: Desk, raws: list[bytes]) -> None:
    for raw in raws:
        desk.put(raw)
    report = poll_once(desk.rt)  # must not raise
    assert report.total == len(raws)
    assert report.counts.get(Disposition.FAILED, 0) == 0, report.counts
    for raw in raws:
        assert desk.disposition(raw) not in (None, Disposition.FAILED)
    deliver(desk.rt.engine, desk.rt.transport)  # every queued answer can be built and written
    assert list((desk.inbox / "new").iterdir()) == [] and list((desk.inbox / "cur").iterdir()) == []


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    file=st.sampled_from(FILES),
    corruptions=st.lists(ops, min_size=1, max_size=4),
    officer=st.booleans(),
)
def test_corrupted_real_mail_always_gets_a_disposition(
    desk: Desk, file: Path, corruptions: list[Op], officer: bool
) -> None:
    raw = file.read_bytes()
    if officer:
        raw = as_officer(raw)
    for op in corruptions:
        raw = op(raw)
    _check(desk, [raw])


def test_every_corpus_mail_corrupted_and_sent_by_an_officer(desk: Desk) -> None:
    """One pass over the whole corpus, each file corrupted once (seeded) and re-addressed from an officer."""
    rng = random.Random(20261103)
    raws = []
    for n, f in enumerate(FILES):
        raw = as_officer(f.read_bytes())
        kind = n % 4
        if kind == 0:
            raw = truncate(raw, rng.uniform(0.3, 1))
        elif kind == 1:
            for _ in range(5):
                raw = flip(raw, rng.random(), rng.randrange(256))
        elif kind == 2:
            raw = duplicate_header(raw, rng.random(), rng.randint(1, 20))
        else:
            raw = drop_boundaries(raw)
        raws.append(raw)
    _check(desk, list(dict.fromkeys(raws)))
    with session_scope(desk.rt.engine) as s:
        filed = s.exec(select(MessageRow).where(MessageRow.disposition == Disposition.ITEM)).all()
    assert len(filed) > 50  # the corruptions still let many through to the filing path


def test_corruptions_change_the_mail() -> None:
    """The corruption helpers really corrupt (else the fuzz tests above test nothing)."""
    raw = (corpus_report.CORPUS / "cpython-test_email__msg_05.eml").read_bytes()
    assert len(truncate(raw, 0.5)) == len(raw) // 2
    assert flip(raw, 0.5, (raw[len(raw) // 2] + 1) % 256) != raw
    assert len(duplicate_header(raw, 0, 3)) > len(raw)
    assert b"--" + _BOUNDARY_PARAM.findall(raw)[0] not in drop_boundaries(raw)
    assert as_officer(raw).startswith(b"From: " + OFFICER.encode())
