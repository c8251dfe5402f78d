"""`mailbot init DIR`: a starting config that loads as written, never overwrites, and reaches a real IMAP server."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import fields
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import pytest
from imapclient import IMAPClient

from mailbot.cli.configdoc import toml_key
from mailbot.cli.init import CONFIG_DIR, PROFILES, init_office
from mailbot.core.scoring.rules import load_rules
from mailbot.core.submission.units import load_units
from mailbot.shell.config import SECTIONS, load_config

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("profile", "shipped", "year_start_month", "office"),
    [
        ("guangzhou", "scoring.toml", 12, "广州市人民政府办公厅"),
        ("county", "profiles/county.toml", 1, "××县人民政府办公室"),
        ("city", "profiles/city.toml", 1, "××市人民政府办公室"),
    ],
)
def test_init_writes_three_files_that_load(
    tmp_path: Path, profile: str, shipped: str, year_start_month: int, office: str
) -> None:
    target = tmp_path / "office"
    written = init_office(target, profile=profile)
    assert [p.name for p in written] == ["mailbot.toml", "units.toml", "scoring.toml"]

    cfg = load_config(target / "mailbot.toml")
    assert cfg.office.name == office
    assert cfg.mailbox.url.startswith("maildir://")
    assert cfg.smtp.url.startswith("file://")
    assert cfg.database_url == f"sqlite:///{target.resolve() / 'var' / 'mailbot.db'}"
    units = load_units(cfg.resolve(cfg.units.file))
    rules = load_rules(cfg.resolve(cfg.scoring.file))

    assert (target / "scoring.toml").read_bytes() == (CONFIG_DIR / shipped).read_bytes()
    assert rules.calendar.year_start_month == year_start_month
    assert len(units) == 3 and len(units.series()) == 2
    direct = [u for u in units if u.parent is not None]
    assert len(direct) == 1 and units.get(direct[0].parent or "") is not None
    # The ordinary example units belong to a series the rules know, so they are scored.
    known = {s.name for s in rules.rulesets[-1].series}
    assert all(u.series in known for u in units if u.parent is None)


def test_office_name_is_written_as_given(tmp_path: Path) -> None:
    name = '某某县人民政府办公室 "信息科" \\ 值班'
    init_office(tmp_path, office=name, profile="county")
    assert load_config(tmp_path / "mailbot.toml").office.name == name


def test_every_config_key_is_in_the_written_file(tmp_path: Path) -> None:
    init_office(tmp_path)
    text = (tmp_path / "mailbot.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            key = toml_key(section, f.name)
            # Keys without a default (passwords, secret) are there, commented out.
            assert key in data[section] or f'# {key} = "…"' in text, f"{section}.{key} missing"
            assert f"# {key}: " in text, f"{section}.{key} has no comment"


def test_written_config_names_the_real_mail_systems(tmp_path: Path) -> None:
    init_office(tmp_path)
    text = (tmp_path / "mailbot.toml").read_text(encoding="utf-8")
    for needle in (
        "imaps://",
        "smtps://",
        "smtp+starttls://",
        "Exchange",
        "Coremail",
        "163",
        "授权码",
        "exmail",
    ):
        assert needle in text


def test_refuses_to_overwrite_and_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "units.toml").write_text("# ours\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match=r"units\.toml"):
        init_office(tmp_path)
    assert (tmp_path / "units.toml").read_text(encoding="utf-8") == "# ours\n"
    assert not (tmp_path / "mailbot.toml").exists()
    assert not (tmp_path / "scoring.toml").exists()


def test_second_init_into_the_same_folder_is_refused(tmp_path: Path) -> None:
    init_office(tmp_path)
    before = (tmp_path / "mailbot.toml").read_bytes()
    with pytest.raises(FileExistsError, match=r"mailbot\.toml"):
        init_office(tmp_path, office="另一个办公室")
    assert (tmp_path / "mailbot.toml").read_bytes() == before


def test_unknown_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="guangzhou"):
        init_office(tmp_path, profile="shanghai")
    assert not any(tmp_path.iterdir())


def test_profiles_cover_every_shipped_rule_set() -> None:
    shipped = {"scoring.toml", *(f"profiles/{p.name}" for p in (CONFIG_DIR / "profiles").glob("*.toml"))}
    assert {p.scoring for p in PROFILES.values()} == shipped


def _submission(sender: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "inbox@example.org"
    msg["Subject"] = (
        "标题：我局开展春运安全检查；单位：市交通运输局；签发人：张三；报送人：李四；电话：020-83123456"
    )
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg["Date"] = format_datetime(dt.datetime.now().astimezone())
    msg.set_content("近日，我局组织开展春运安全大检查，共检查客运站12个。\n")
    return msg.as_bytes()


def _mailbot(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailbot", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.servers
def test_init_then_editing_only_the_mailbox_url_reads_a_real_imap_server(
    tmp_path: Path, imap_account: tuple[str, str, str]
) -> None:
    address, password, url = imap_account
    init_office(tmp_path)
    config = tmp_path / "mailbot.toml"
    before = config.read_text(encoding="utf-8").splitlines()
    after = [f'url = "{url}"' if ln == 'url = "maildir://var/inbox"' else ln for ln in before]
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 1
    config.write_text("\n".join(after) + "\n", encoding="utf-8")

    raw = _submission("jtj@example.org")  # an officer of U01 in the example units.toml
    host, port = url.split("@")[-1].split("/")[0].split(":")
    with IMAPClient(host, port=int(port), ssl=False) as client:
        client.login(address, password)
        client.append("INBOX", raw)

    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env.update(MAILBOT_IMAP_PASSWORD=password, PYTHONPATH=str(REPO))
    polled = _mailbot(["poll", "--once", "-c", str(config)], env)
    assert polled.returncode == 0, polled.stdout + polled.stderr

    listed = _mailbot(["messages", "list", "--json", "-c", str(config)], env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    messages = json.loads(listed.stdout)
    assert [m["subject"] for m in messages] == [
        "标题：我局开展春运安全检查；单位：市交通运输局；签发人：张三；报送人：李四；电话：020-83123456"
    ]
    assert messages[0]["from"] == "jtj@example.org"
    assert messages[0]["disposition"] == "item"
    # The receipt went to the file outbox the init config writes to, not to the network.
    assert list((tmp_path / "var" / "outbox").rglob("*.eml"))
