"""The officer hears of every decision that changes what their last notice said.

Not only a change of status: a later 批示 on an adopted item, a regrade, an 上级采用
or a 撤销 of any of them changes the item's points or where it was adopted, and
the officer's last notice would otherwise keep showing the old figure. On the real
servers (Dovecot in, SmtpCapture out); the officer's view itself is tested on plain values in
tests/core/test_officer.py.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest

from mailbot.demo import samples
from tests.app.test_intake import OFFICER, deliver, good
from tests.office import REVIEWER, Office, make_office, parse, text_of
from tests.servers import Dovecot, SmtpCapture

Account = tuple[str, str, str]


@pytest.fixture
def office(tmp_path: Path, imap_account: Account, smtp_capture: SmtpCapture) -> Office:
    _, password, url = imap_account
    return make_office(tmp_path / "office", mailbox_url=url, smtp_url=smtp_capture.url, imap_password=password,
                       urgent=())


def _reply(smtp: SmtpCapture, command: str) -> bytes:
    review = next(m for m in smtp.messages if "[待审#" in str(parse(m.content)["Subject"]))
    return samples.reply(sender=REVIEWER, to_message=review.content, command=command, date=dt.datetime.now(dt.UTC))


def _decide(office: Office, dovecot: Dovecot, account: Account, smtp: SmtpCapture, raw: bytes) -> list[EmailMessage]:
    """Deliver one reply, run a pass, and return the mail it caused (the confirmation always comes)."""
    seen = len(smtp.messages)
    deliver(dovecot, account, raw)
    office.run("poll", "--once")
    smtp.wait_for(seen + 1)
    return [parse(m.content) for m in smtp.messages[seen:]]  # a pass sends all it queued before it returns


def _to_officer(mails: list[EmailMessage]) -> list[EmailMessage]:
    return [m for m in mails if m["To"] == OFFICER]


def test_later_instruction_and_its_undo_reach_the_officer(
    office: Office, dovecot: Dovecot, imap_account: Account, smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    smtp_capture.wait_for(2)

    def decide(command: str) -> list[EmailMessage]:
        return _decide(office, dovecot, imap_account, smtp_capture, _reply(smtp_capture, command))

    (first,) = _to_officer(decide("采用 穗府信息 标题"))
    assert "已采用" in str(first["Subject"]) and "本条得分：2 分" in text_of(first)

    instruct = _reply(smtp_capture, "批示 市")
    (update,) = _to_officer(_decide(office, dovecot, imap_account, smtp_capture, instruct))
    assert "采用情况更新" in str(update["Subject"])
    body = text_of(update)
    assert "新增：市领导批示 +8分" in body and "本条得分：10 分（原 2 分）" in body
    assert "采用情况：《穗府信息》采用（标题）" in body

    # The same reply delivered again by the server: applied once, the officer told once.
    seen = len(smtp_capture.messages)
    deliver(dovecot, imap_account, instruct)
    office.run("poll", "--once")
    assert len(smtp_capture.messages) == seen

    # Nothing the officer sees changes: the reviewer is answered, the officer is not.
    assert _to_officer(decide("帮助")) == []

    (undone,) = _to_officer(decide("撤销"))
    body = text_of(undone)
    assert "撤销：市领导批示（原计 +8分）" in body and "本条得分：2 分（原 10 分）" in body

    # The adoption repeated: status and points as the officer was last told, so no notice.
    mails = decide("采用 穗府信息 标题")
    assert [m["To"] for m in mails] == [REVIEWER]
    assert office.json("items", "list")[0]["score"] == 2


def test_regrade_and_undone_adoption_reach_the_officer(
    office: Office, dovecot: Dovecot, imap_account: Account, smtp_capture: SmtpCapture
) -> None:
    deliver(dovecot, imap_account, good())
    office.run("poll", "--once")
    smtp_capture.wait_for(2)

    def decide(command: str) -> list[EmailMessage]:
        return _decide(office, dovecot, imap_account, smtp_capture, _reply(smtp_capture, command))

    (first,) = _to_officer(decide("采用 穗府信息 短波"))
    assert "本条得分：1 分" in text_of(first)

    (regraded,) = _to_officer(decide("采用 穗府信息 标题"))
    body = text_of(regraded)
    assert "新增：《穗府信息》采用（标题） +1分" in body and "本条得分：2 分（原 1 分）" in body
    assert "采用情况：《穗府信息》采用（标题）\n" in body  # the new grade replaces 短波, as in the score

    (back,) = _to_officer(decide("撤销"))
    assert "本条得分：1 分（原 2 分）" in text_of(back)

    (pending,) = _to_officer(decide("撤销"))
    assert "恢复待审" in str(pending["Subject"])
    body = text_of(pending)
    assert "此前的采用决定已撤销" in body and "本条得分：0 分（原 1 分）" in body
    assert office.json("items", "list")[0]["status"] == "pending"
