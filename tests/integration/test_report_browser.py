"""report.html of a real short run on the local stack, opened in Debian's chromium (headless, via Playwright).

What a reader checks: the page opens without a console error, the verdict
is in the first screen, every chart is drawn and every table is there; a
PNG screenshot is saved next to the report for a person to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import missing
from tests.integration.shortrun import ROOT, events
from tests.integration.watched_run import WatchedRun, assert_judged

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
TIERS = ("redis", "materialize", "clickhouse", "websocket", "http")


@pytest.fixture(scope="module")
def run_dir(watched_short_run: WatchedRun) -> Path:
    """The shared watched run (conftest.py): three 8 s steps, no fault, then 100 and 200 ms on ClickHouse."""
    assert_judged(watched_short_run)
    return watched_short_run.folder


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright's Python package is not installed")
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed (Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


def test_the_run_journals_live_windows_and_writes_report_html(run_dir: Path) -> None:
    assert (run_dir / "report.html").is_file(), "the run did not write report.html"
    assert (run_dir / "report.md").is_file(), "report.md is kept"
    live = [e for e in events(run_dir) if e["event"] == "live"]
    assert live, "no live window in the journal"
    assert all("hdr" not in str(e) for e in live), "live windows are journaled without histograms"
    assert {"count", "p95_ms"} <= set(live[-1]["tiers"]["clickhouse"])


def test_harness_report_rebuilds_report_html(run_dir: Path) -> None:
    (run_dir / "report.html").unlink()
    done = subprocess.run([sys.executable, "-m", "harness", "report", str(run_dir)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run_dir / "report.html").is_file()


def test_the_report_opens_in_chromium_verdict_first_every_chart_and_table(run_dir: Path, browser: object) -> None:
    page = browser.new_page(viewport=VIEWPORT)  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto((run_dir / "report.html").as_uri())
    page.wait_for_load_state("load")

    verdict = page.locator("#verdict")
    assert verdict.is_visible()
    assert verdict.inner_text().startswith("Verdict: ")
    box = verdict.bounding_box()
    assert box is not None and box["y"] + box["height"] <= VIEWPORT["height"], "the verdict is below the first screen"
    heading = page.locator("h1").bounding_box()
    assert heading is not None and heading["y"] < box["y"], "the title, then the verdict, first"

    # One chart per tier (the faulted one first), the timeline, the host chart: each drawn, with its label.
    tier_charts = page.locator("#tiers figure svg")
    assert tier_charts.count() == len(TIERS)
    assert (tier_charts.first.get_attribute("aria-label") or "").startswith("clickhouse:")
    for selector in ("#timeline figure svg", "#host figure svg"):
        assert page.locator(selector).count() == 1, selector
    for chart in page.locator("figure svg").all():
        drawn = chart.bounding_box()
        assert drawn is not None and drawn["width"] > 300 and drawn["height"] > 100
        assert chart.get_attribute("aria-label")
    for tier in TIERS:
        assert page.locator(f"#tier-{tier}").count() == 1, tier

    # Every table: numbers per tier, the timeline's events, faults, WebSocket, host, what ran.
    assert page.locator("#tiers table").count() == len(TIERS)
    for selector in ("#timeline table", "#faults table", "#websocket table", "#host table", "#what-ran table"):
        assert page.locator(selector).count() == 1, selector
    faults = page.locator("#faults table").inner_text()
    assert "clickhouse latency 100 ms" in faults
    assert "clickhouse latency 100 ms" in page.locator("#timeline table").inner_text()
    assert "PostgreSQL stands in for Materialize" in page.locator("#what-ran").inner_text()
    assert "could not be drawn" not in page.content()

    screenshot = run_dir / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    page.close()
    assert screenshot.stat().st_size > 10_000
    assert problems == [], f"console errors: {problems}"
