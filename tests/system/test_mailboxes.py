"""One daemon, several submission mailboxes ([[mailbox]] tables) feeding one desk."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlmodel import col, select

from mailbot.app.context import Runtime
from mailbot.app.intake import poll_once
from mailbot.core.errors import ConfigError
from mailbot.demo import samples
from mailbot.shell.config import load_config
from mailbot.shell.db.models import Item
from mailbot.shell.db.store import session_scope
from tests import mailstore
from tests.office import make_office
from tests.servers import Dovecot, SmtpCapture
from tests.system.test_daemon import Daemons, filed


def _two_box_office(root: Path) -> Path:
    office = make_office(root, mailbox_url="maildir://var/city-a", smtp_url="file://var/outbox")
    text = office.config.read_text(encoding="utf-8")
    text = text.replace('[mailbox]\nurl = "maildir://var/city-a"\n',
                        '[[mailbox]]\nurl = "maildir://var/city-a"\n\n'
                        '[[mailbox]]\nurl = "maildir://var/city-b"\nprocessed_folder = "done"\n')
    office.config.write_text(text, encoding="utf-8")
    return office.config


def _mail(uid: str, name: str, i: int) -> bytes:
    return samples.submission(
        sender=f"{uid.lower()}@gz.example.org",
        subject=samples.labelled_subject(f"{name}第{i}条信息", name, "张三", "李四", "020-83123456"),
        body=samples.body_text(name, samples.TOPICS[i], random.Random(i)),
        date=dt.datetime.now(dt.UTC),
    )


def test_every_mailbox_is_served_with_its_own_folders_and_one_numbering(tmp_path: Path) -> None:
    config = _two_box_office(tmp_path / "o")
    rt = Runtime(load_config(config))
    try:
        a, b = rt.mailboxes
        mailstore.append(a, _mail("QX01", "越秀区政府", 1))
        mailstore.append(b, _mail("QX02", "荔湾区政府", 2))
        mailstore.append(b, _mail("QX03", "海珠区政府", 3))
        report = poll_once(rt)
        assert report.counts == {"item": 3}
        assert (mailstore.count(a), mailstore.count(a, "mailbot/processed")) == (0, 1)
        assert (mailstore.count(b), mailstore.count(b, "done")) == (0, 2)
        with session_scope(rt.engine) as s:
            items = s.exec(select(Item).order_by(col(Item.id))).all()
            assert [i.id[5:] for i in items] == ["0001", "0002", "0003"]
            assert [i.unit_id for i in items] == ["QX01", "QX02", "QX03"]
    finally:
        rt.close()


def test_a_mailbox_listed_twice_is_a_config_error(tmp_path: Path) -> None:
    config = _two_box_office(tmp_path / "o")
    config.write_text(config.read_text(encoding="utf-8").replace("var/city-b", "var/city-a"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert err.value.key == "[[mailbox]].url"


def test_the_daemon_idles_on_every_mailbox(
    tmp_path: Path, dovecot: Dovecot, smtp_capture: SmtpCapture, daemons: Daemons
) -> None:
    (a, pa), (b, pb) = dovecot.add_user(), dovecot.add_user()
    office = make_office(tmp_path / "o", mailbox_url=dovecot.url_for(a), smtp_url=smtp_capture.url,
                         imap_password=pa, urgent=())
    text = office.config.read_text(encoding="utf-8")
    text = text.replace(f'[mailbox]\nurl = "{dovecot.url_for(a)}"\npoll_interval = 1\n',
                        f'[[mailbox]]\nurl = "{dovecot.url_for(a)}"\npoll_interval = 1\n\n'
                        f'[[mailbox]]\nurl = "{dovecot.url_for(b)}"\npoll_interval = 1\n')
    office.config.write_text(text, encoding="utf-8")
    office.env["MAILBOT_IMAP_PASSWORD_2"] = pb
    office.run("messages", "list")  # creates the database before the daemon starts
    daemon = daemons.start(office)
    for address, password, mail in ((a, pa, _mail("QX01", "越秀区政府", 4)), (b, pb, _mail("QX02", "荔湾区政府", 5))):
        with IMAPClient(dovecot.host, port=dovecot.imap_port, ssl=False) as c:
            c.login(address, password)
            c.append("INBOX", mail)
    rows = filed(office, 2, 60, daemon)
    assert sorted(r["disposition"] for r in rows) == ["item", "item"]
    assert {i["unit"] for i in office.json("items", "list")} == {"QX01", "QX02"}
    daemon.terminate()
