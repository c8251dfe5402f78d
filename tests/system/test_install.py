"""One install procedure for the README, CI and the Docker image: scripts/install.

The script is run for real with the system tools it calls (dpkg-query, apt-get,
sudo, python3 -m venv, pip) replaced by stubs on PATH that record their arguments:
what matters is what it would install on a fresh Debian 12, not a second download.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

from tests.office import REPO

INSTALL = REPO / "scripts" / "install"


def _stub(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _install(tmp_path: Path, *args: str, installed: bool = False) -> list[str]:
    """Run scripts/install against stubbed system tools; returns the commands it ran, in order."""
    log = tmp_path / "calls.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    _stub(bin_dir / "dpkg-query", "echo 'install ok installed'\n" if installed else "exit 1\n")
    _stub(bin_dir / "apt-get", f'echo "apt-get $*" >> {log}\n')
    _stub(bin_dir / "sudo", 'exec "$@"\n')
    # `python -m venv DIR` makes DIR/bin/pip, itself a recording stub.
    _stub(
        bin_dir / "fake-python",
        f'echo "python $*" >> {log}\nmkdir -p "$3/bin"\n'
        f'printf \'#!/bin/sh\\necho "pip $*" >> {log}\\n\' > "$3/bin/pip"\nchmod +x "$3/bin/pip"\n',
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHON": str(bin_dir / "fake-python")}
    proc = subprocess.run([str(INSTALL), *args], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_fresh_debian_gets_python3_venv_before_the_venv_is_made(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    calls = _install(tmp_path, "--venv", str(venv), "--extras", "test", "dovecot-imapd")
    assert calls[0] == "apt-get update -q"
    assert re.fullmatch(r"apt-get install .* python3-venv catdoc dovecot-imapd", calls[1]), calls
    assert calls[2] == f"python -m venv {venv}"
    assert calls[3].startswith("pip install") and calls[3].endswith("-e .[test]"), calls


def test_a_venv_without_pip_is_made_again(tmp_path: Path) -> None:
    # What `python3 -m venv` leaves when python3-venv was missing: bin/python, no pip.
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    _stub(venv / "bin" / "python", "exit 0\n")
    calls = _install(tmp_path, "--venv", str(venv), installed=True)
    assert calls == [f"python -m venv {venv}", "pip install -q --disable-pip-version-check -e ."]


def test_a_working_venv_is_reused(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _install(tmp_path, "--venv", str(venv), installed=True)
    (tmp_path / "calls.log").unlink()
    calls = _install(tmp_path, "--venv", str(venv), "--extras", "postgres", installed=True)
    assert calls == ["pip install -q --disable-pip-version-check -e .[postgres]"]


def _run_lines(dockerfile: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    return [ln.split(None, 1)[1] for ln in joined.splitlines() if ln.startswith("RUN ")]


def test_ci_readme_and_docker_image_all_install_with_scripts_install() -> None:
    runs = _run_lines((REPO / "Dockerfile").read_text(encoding="utf-8"))
    assert any(r.startswith("scripts/install ") for r in runs), runs
    # The image installs nothing its own way: no apt-get or pip of its own.
    assert not any(re.search(r"\bapt-get install\b|\bpip install\b", r) for r in runs), runs

    test_script = (REPO / "scripts" / "test").read_text(encoding="utf-8")
    assert re.search(r"^scripts/install --extras test ", test_script, re.M), test_script
    assert "apt-get" not in test_script and "pip install" not in test_script

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_command = readme.split("```\n", 2)[1].splitlines()[0]
    assert first_command.startswith("scripts/install && "), first_command
    assert os.access(INSTALL, os.X_OK) and os.access(REPO / "scripts" / "test", os.X_OK)
