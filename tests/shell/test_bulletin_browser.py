"""The 130-unit bulletin as a real browser builds it: headless Chromium's DOM against score_period's rows.

Chromium parses the HTML the way mail clients' engines do, so a misnested tag
that would move cells or rows (table foster-parenting) shows up here even
where our own parser would not notice. Set MAILBOT_UPDATE_SCREENSHOT=1 to
rewrite docs/bulletin.png from the same page.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from mailbot.core.scoring.scores import ScoreRow
from mailbot.shell.compose import render_html
from tests.fixtures.bulletin.dom import parse, series_tables
from tests.fixtures.bulletin.sample import ROOT, build_sample

INSTALL_HINT = (
    "Chromium is needed for the bulletin DOM test: apt-get install -y chromium fonts-noto-cjk "
    "(Debian; fonts-noto-cjk only matters for the screenshot)"
)
SCREENSHOT = ROOT / "docs" / "bulletin.png"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(INSTALL_HINT, pytrace=False)


def _run(browser: str, profile: Path, *args: str) -> str:
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _figure(text: str) -> Decimal | None:
    return None if text == "—" else Decimal(text.removesuffix("%"))


def _want(row: ScoreRow, col: str) -> Decimal | None:
    if col == "completion":
        if row.completion is None:
            return None
        return (row.completion * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    value = getattr(row, col)
    return None if value is None else Decimal(value)


def test_chromium_dom_lists_every_series_in_rank_order_with_the_scored_figures(tmp_path: Path) -> None:
    browser = _chromium()
    sample = build_sample("2026-11")
    page = tmp_path / "bulletin.html"
    page.write_text(render_html(sample.data, unit_id="QX01"), encoding="utf-8")
    url = page.as_uri()

    dom = parse(_run(browser, tmp_path / "profile", "--dump-dom", url))
    tables = series_tables(dom)
    rows = sample.rows  # exactly what score_period returned (mailbot scores --json)
    assert list(tables) == sample.data.series_order
    assert sum(len(t) for t in tables.values()) == len(rows) == 130
    for series, shown in tables.items():
        expected = [r for r in rows if r.series == series]
        assert [s["unit_id"] for s in shown] == [r.unit_id for r in expected], series
        for s, r in zip(shown, expected, strict=True):
            assert s["unit"] == r.unit_name
            assert int(s["rank"]) == r.rank
            for col in ("submitted", "adopted", "score", "cumulative", "target", "completion"):
                assert _figure(s[col]) == _want(r, col), (r.unit_id, col)
    assert [tr.attrs["data-unit"] for tr in dom.having("data-own")] == ["QX01"]
    assert "本单位本期得分" in dom.having("data-own-line")[0].text()
    assert not dom.find_all(lambda n: n.tag == "script")

    if os.environ.get("MAILBOT_UPDATE_SCREENSHOT") == "1":
        shot = tmp_path / "bulletin.png"
        _run(browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1000,3000", url)
        assert shot.read_bytes().startswith(b"\x89PNG")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
