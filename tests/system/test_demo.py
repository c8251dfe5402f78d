"""README command 1: `mailbot demo` runs a month at an office and tells the user where to look.

Run as the README runs it (the venv's `mailbot` script in a fresh folder), twice: the
second time with --reset, as a user who tries it again does. What the user would
check: the bulletin (.html, .txt, .xlsx) and the mails (.eml) are there, and every
path and command the closing lines print leads to something real.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import openpyxl

from tests.office import REPO

_SCRIPT = Path(sys.executable).parent / "mailbot"
MAILBOT = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "mailbot"]


def _demo(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [*MAILBOT, "demo", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=280
    )


def _closing(stdout: str) -> list[str]:
    """The lines after "Look around:"."""
    lines = stdout.splitlines()
    assert "Look around:" in lines, stdout
    return [ln.strip() for ln in lines[lines.index("Look around:") + 1 :] if ln.strip()]


def _check_output(stdout: str, demo: Path) -> None:
    closing = _closing(stdout)
    commands = [shlex.split(ln) for ln in closing if " -c " in ln]
    assert len(commands) == 4, closing
    for cmd in commands:
        assert Path(cmd[cmd.index("-c") + 1]) == demo / "config" / "mailbot.toml"
    # The first printed command works as printed.
    listed = subprocess.run(commands[0], capture_output=True, text=True, timeout=60, cwd=demo.parent)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) > 30, listed.stdout  # a month of items

    files = [Path(ln) for ln in closing if ln.startswith("/") and " " not in ln]
    assert sorted(p.suffix for p in files) == [".html", ".txt", ".xlsx"], closing
    for path in files:
        assert path.is_file() and path.stat().st_size > 0, path
        assert path.parent == demo / "bulletin"
    html = next(p for p in files if p.suffix == ".html").read_text(encoding="utf-8")
    assert "政务信息" in html and "越秀区" in html
    book = openpyxl.load_workbook(next(p for p in files if p.suffix == ".xlsx"))
    units = {c.value for ws in book for row in ws.iter_rows() for c in row}
    assert {"越秀区政府", "市地税局", "广州海关"} <= units  # a scored row per unit

    outbox = Path(closing[-1].rsplit(": ", 1)[1])
    assert closing[-1].startswith("every mail mailbot sent") and outbox.is_dir(), closing[-1]
    emls = list(outbox.glob("*.eml"))
    assert len(emls) > 260  # receipts, review requests, notices and a bulletin copy per unit address
    assert all(e.stat().st_size > 0 for e in emls)


def test_demo_runs_twice_and_names_files_that_exist(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    _check_output(first.stdout, demo)

    refused = _demo(tmp_path)  # a second run never wipes the office without being asked
    assert refused.returncode == 2 and "--reset" in refused.stderr, refused.stderr
    assert (demo / "config" / "mailbot.toml").exists()

    again = _demo(tmp_path, "--reset")
    assert again.returncode == 0, again.stdout + again.stderr
    _check_output(again.stdout, demo)
    assert _closing(again.stdout) == _closing(first.stdout)
