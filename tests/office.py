"""A throwaway office for tests: a config dir pointing at the test servers, plus CLI helpers."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
REVIEWER = "editor@example.org"
DUTY = "duty@example.org"


@dataclass
class Office:
    """A config directory and how to run mailbot against it."""

    root: Path
    env: dict[str, str]

    @property
    def config(self) -> Path:
        return self.root / "mailbot.toml"

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run `mailbot ARGS -c CONFIG` in a subprocess, as an operator would."""
        cmd = [sys.executable, "-m", "mailbot", *args, "-c", str(self.config)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        """Run a command with --json and parse its output."""
        return json.loads(self.run(*args, "--json").stdout)


def make_office(
    root: Path,
    *,
    mailbox_url: str,
    smtp_url: str,
    imap_password: str | None = None,
    extra: str = "",
    reviewers: tuple[str, ...] = (REVIEWER,),
    urgent: tuple[str, ...] = (DUTY,),
    database_url: str | None = None,
) -> Office:
    """Write mailbot.toml (+ the shipped units and scoring rules) into `root`."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "config" / "units.toml", root / "units.toml")
    shutil.copy(REPO / "config" / "scoring.toml", root / "scoring.toml")
    revs = ", ".join(f'"{r}"' for r in reviewers)
    urg = ", ".join(f'"{u}"' for u in urgent)
    (root / "mailbot.toml").write_text(
        f"""
[mailbox]
url = "{mailbox_url}"
poll_interval = 1

[smtp]
url = "{smtp_url}"
from = "政务信息报送 <inbox@example.org>"

[database]
url = "{database_url or 'sqlite:///var/mailbot.db'}"

[archive]
path = "var/archive"

[office]
name = "广州市人民政府办公厅"
domain = "mailbot.test"

[review]
reviewers = [{revs}]
urgent = [{urg}]
secret = "test-secret"
{extra}
""",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env["PYTHONPATH"] = str(REPO)
    if imap_password:
        env["MAILBOT_IMAP_PASSWORD"] = imap_password
    return Office(root, env)


def parse(raw: bytes) -> EmailMessage:
    """A captured mail, parsed with the modern policy."""
    return email.message_from_bytes(raw, policy=default)


def text_of(msg: EmailMessage) -> str:
    """The plain-text part of a mail mailbot sent."""
    part = msg.get_body(("plain",))
    assert part is not None
    return str(part.get_content())
