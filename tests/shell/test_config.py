"""Configuration mistakes fail fast with exit 2, naming the file and the key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.office import make_office


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (("[review]\n", "[review]\nreviewer = [\"a@example.org\"]\n"), "review.reviewer"),
        (("poll_interval = 1\n", "poll_interval = \"often\"\n"), "mailbox.poll_interval"),
        (("[office]\n", "[office]\ntimezone = \"Mars/Olympus\"\n"), "office.timezone"),
        (("url = \"file://var/outbox\"", "url = \"ftp://var/outbox\""), "smtp.url"),
        (("[review]\n", "[revue]\nx = 1\n[review]\n"), "[revue]"),
    ],
)
def test_a_wrong_key_or_value_exits_2_naming_file_and_key(
    tmp_path: Path, edit: tuple[str, str], key: str
) -> None:
    office = make_office(tmp_path / "o", mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox")
    text = office.config.read_text(encoding="utf-8")
    assert edit[0] in text
    office.config.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    for command in (("check-config",), ("items", "list")):
        proc = office.run(*command, check=False)
        assert proc.returncode == 2, proc.stderr
        assert str(office.config) in proc.stderr and key in proc.stderr


def test_a_bad_unit_file_names_the_unit_and_key(tmp_path: Path) -> None:
    office = make_office(tmp_path / "o", mailbox_url="maildir://var/inbox", smtp_url="file://var/outbox")
    units = office.root / "units.toml"
    units.write_text(units.read_text(encoding="utf-8").replace('parent = "BA20"', 'parent = "NOPE"', 1),
                     encoding="utf-8")
    proc = office.run("check-config", check=False)
    assert proc.returncode == 2 and "units.toml" in proc.stderr and ".parent" in proc.stderr


def test_the_shipped_config_is_valid() -> None:
    from tests.office import REPO

    proc = subprocess.run(
        [sys.executable, "-m", "mailbot", "check-config", "-c", str(REPO / "config" / "mailbot.toml")],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "130 in series 区县, 部门A, 部门B, 直报点A, 直报点B" in proc.stdout
