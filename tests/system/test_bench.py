"""`python -m bench` runs end to end on a tiny size and prints its results table.

No timing is asserted (figures depend on the machine); what is checked is that
an operator's one command starts its own servers, files the generated backlog
exactly as intake should, and reports every selected benchmark.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.office import REPO

pytestmark = pytest.mark.servers


def test_tiny_bench_prints_a_table_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "performance.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--size", "tiny", "--runs", "1", "--only", "intake,scoring,similarity",
         "--out", str(report)],
        cwd=REPO, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("| bench | metric | ours | baseline | ours ÷ baseline |")
    benches = {line.split("|")[1].strip() for line in lines[2:] if line.startswith("|")}
    assert benches == {"intake", "scoring", "similarity"}
    # Every one of the 30 generated submissions was accepted and answered with a receipt.
    assert "messages by disposition {'item': 30}" in proc.stdout
    assert "'receipt': 30" in proc.stdout
    text = report.read_text(encoding="utf-8")
    assert "## Machine and run" in text and "| intake |" in text and "雷同" in text


def test_unknown_benchmark_is_a_usage_error() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "intake,nosuch"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "nosuch" in proc.stderr
