"""Two real short runs on the local stack, compared: `run --baseline`, `compare`, `history`, compare.html in chromium.

Run A is the shared watched run (conftest.py: three 8 s steps, no toxic,
100 ms, 200 ms on the ClickHouse link). Run B is the same experiment with
700 ms in step 2 instead of 100 ms (`--set`), past ClickHouse's SLO
(p95 < 500 ms): B's step 2 ClickHouse verdict must be a regression against
A, and the gate must exit 1.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.integration.shortrun import ROOT, run_folder, run_harness, summary_of
from tests.integration.watched_run import WatchedRun, assert_judged

pytestmark = pytest.mark.integration

NAME = "clickhouse-latency-short"


def _harness(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *argv], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_a_real_regression_is_gated(watched_short_run: WatchedRun, tmp_path: Path) -> None:
    assert_judged(watched_short_run)
    run_a = watched_short_run.folder
    assert summary_of(run_a)["steps"][1]["slo"]["clickhouse"] == "pass"  # 100 ms: far below 500 ms
    results = run_a.parent  # B lands beside A, as a user's next run does

    second = run_harness(run_a / "experiment.yaml", results, "--backend", "local", "--linger", "0",
                         "--set", "faults.0.levels.1.latency_ms=700", "--baseline", str(run_a))
    run_b = run_folder(results)
    assert run_b != run_a
    assert second.returncode == 1, second.stderr[-3000:]
    out = second.stdout.splitlines()
    assert f"A: {run_a.name} ({NAME}, completed, " in "\n".join(out)
    assert any(line.startswith("plans differ: step 2: toxics clickhouse latency 100 ms") and "700 ms" in line
               for line in out), out
    verdict = next(line for line in out if line.startswith(("REGRESSED", "no verdict regressed")))
    assert verdict.startswith("REGRESSED") and "step 2 clickhouse: pass → fail" in verdict
    assert f"comparison: {run_b / 'compare.html'}" in out
    score_a, score_b = summary_of(run_a)["score"]["value"], summary_of(run_b)["score"]["value"]
    assert score_b is not None and (score_a is None or score_b < score_a)

    # The same comparison by hand, and a run against itself.
    again = _harness("compare", str(run_a), str(run_b), "--output", str(tmp_path / "again.html"))
    assert again.returncode == 1, again.stderr
    assert (tmp_path / "again.html").is_file()
    itself = _harness("compare", str(run_a), str(run_a), "--output", str(tmp_path / "itself.html"))
    assert itself.returncode == 0, itself.stderr
    assert "no verdict regressed" in itself.stdout

    listed = _harness("history", NAME, "--results-dir", str(results))
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()[1:]
    assert [row.split()[-1] for row in rows] == [run_b.name, run_a.name]  # newest first
    assert rows[0].split()[2:5] == [NAME, "completed", "3/3"]

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((run_b / "compare.html").as_uri())
            assert errors == []
            assert page.locator(".verdict").inner_text() == "REGRESSED"
            assert page.locator("#charts figure svg").count() == 5  # one per tier
            assert page.locator("#changes tbody tr").count() == 3 * 5
            page.screenshot(path=str(run_b / "compare.png"), full_page=True)
        finally:
            browser.close()
