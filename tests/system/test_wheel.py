"""The wheel alone is enough: built from the repo, installed in a fresh venv, `mailbot demo` runs to the end.

How, and why each step is honest:

1. Build. ``pip wheel --no-deps --no-build-isolation --no-index`` on a copy of the
   repo's top-level files and ``mailbot/`` (setuptools leaves ``build/`` behind in
   the tree it builds, and a stale ``build/lib`` would slip deleted modules into a
   later wheel). No build isolation, so no index is needed: the test extras bring
   a setuptools that builds wheels by itself (>= 70.1).
2. Install. A venv made with ``python -m venv --without-pip`` (a second). The
   current interpreter's pip installs the wheel into it with ``--python``,
   ``--no-deps``: the venv's ``mailbot`` is the wheel's files and nothing else.
3. Dependencies. The runtime libraries (sqlmodel, imapclient, jinja2 …) are not
   what is tested, and installing them again would need the index and a minute.
   A ``.pth`` file in the new venv lists the current interpreter's site-packages
   as plain paths. Python only runs the ``.pth`` files of its own site
   directories, never those of a directory a ``.pth`` line adds, so the editable
   install's finder (``__editable__.mailbot-*.pth``) never runs, and the new venv's
   own site-packages comes first on ``sys.path``.
4. Run. ``mailbot demo`` from the venv's bin/, in an empty temp folder, with an
   environment holding only PATH, HOME (a temp folder), LANG and TZ: no
   PYTHONPATH, no MAILBOT_TEMPLATES or other MAILBOT_ variable, no repo on the
   path. The test checks the bulletin was written, a printed command works, and
   that the venv imported ``mailbot`` from its own site-packages with no
   editable finder on ``sys.meta_path``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import site
import subprocess
import sys
from pathlib import Path

from tests.office import REPO


def _build_wheel(tmp: Path) -> Path:
    src = tmp / "src"
    src.mkdir()
    for entry in REPO.iterdir():
        if entry.is_file() and not entry.is_symlink():
            shutil.copy2(entry, src / entry.name)
    shutil.copytree(REPO / "mailbot", src / "mailbot", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--no-cache-dir", "-q", "-w", str(dist), str(src)],
        capture_output=True, text=True, timeout=120,
    )
    assert built.returncode == 0, (
        "building the wheel failed (the test extras bring setuptools>=70.1: run scripts/install)\n"
        + built.stdout + built.stderr
    )
    (wheel,) = dist.glob("mailbot-*.whl")
    return wheel


def _venv_with(wheel: Path, venv: Path) -> Path:
    """A fresh venv holding the wheel; dependencies come from this interpreter's site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--no-cache-dir", "-q", str(wheel)],
        capture_output=True, text=True, timeout=120,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(purelib) / "_mailbot_test_dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    return python


def _clean_env(venv: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.defpath}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TZ": "Asia/Shanghai",
    }


def test_the_wheel_alone_runs_the_demo(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv = tmp_path / "venv"
    python = _venv_with(wheel, venv)
    office, home = tmp_path / "office", tmp_path / "home"
    office.mkdir()
    home.mkdir()
    env = _clean_env(venv, home)

    where = subprocess.run(
        [str(python), "-c",
         "import json, sys, mailbot; print(json.dumps([mailbot.__file__, [repr(f) for f in sys.meta_path]]))"],
        cwd=office, env=env, capture_output=True, text=True, timeout=60,
    )
    assert where.returncode == 0, where.stderr
    mailbot_file, finders = json.loads(where.stdout)
    assert Path(mailbot_file).is_relative_to(venv), mailbot_file
    assert not any("editable" in f.lower() for f in finders), finders

    demo = subprocess.run(
        [str(venv / "bin" / "mailbot"), "demo"],
        cwd=office, env=env, capture_output=True, text=True, timeout=240,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    lines = [ln.strip() for ln in demo.stdout.splitlines()]
    assert any(ln.startswith("[5/5]") and "sent:" in ln for ln in lines), demo.stdout
    bulletin = office / "demo" / "bulletin"
    files = sorted(bulletin.iterdir())
    assert sorted(p.suffix for p in files) == [".html", ".txt", ".xlsx"], files
    assert all(p.stat().st_size > 0 for p in files), files
    assert all(str(p) in lines for p in files), demo.stdout  # the paths it prints are the files written
    assert "政务信息" in next(p for p in files if p.suffix == ".html").read_text(encoding="utf-8")

    # A command the demo prints works as printed, and it is the venv's mailbot.
    listed_cmd = shlex.split(next(ln for ln in lines if " items list " in ln))
    assert shutil.which(listed_cmd[0], path=env["PATH"]) == str(venv / "bin" / "mailbot"), listed_cmd
    listed = subprocess.run(listed_cmd, cwd=office, env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) > 30, listed.stdout
