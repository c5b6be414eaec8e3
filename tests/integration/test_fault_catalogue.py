"""The fault catalogue on the real local stack: a matrix, bandwidth, a link going down, a breaking point.

What a user checks of each: a 2 × 2 matrix (plus its no-fault zero points)
whose ClickHouse latencies order as the faults do; a bandwidth toxic that
slows an answer in proportion to its size and the rate; a link down that
gives errors which stop once it is back, with the recovery time recorded;
and a breaking-point search that lands where the SLO and the measured
baseline say it must.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.stack.base import Endpoints
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import ROOT, assert_nothing_left, run_folder, run_harness, summary_of
from toxics.applier import ToxicApplier
from toxics.client import ToxiproxyClient
from toxics.links import Link
from toxics.schedule import ToxicState

pytestmark = pytest.mark.integration

MATRIX = """\
name: matrix-short
ramp: {users: [5, 10], spawn_rate: 10, step_s: 6, settle_s: 1.5}  # p50s only: 4.5 s windows hold enough
schedule: matrix
faults:
  - {link: clickhouse, type: latency, levels: [{latency_ms: 50}, {latency_ms: 150}]}
"""


def test_a_matrix_gives_a_surface_that_orders_as_the_faults(tmp_path: Path) -> None:
    require_local_stack_programs()
    spec = tmp_path / "matrix-short.yaml"
    spec.write_text(MATRIX)
    completed = run_harness(spec, tmp_path / "results", "--backend", "local", "--linger", "0")
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    summary = summary_of(run_folder(tmp_path / "results"))
    assert summary["schedule"] == "matrix"
    cells = {(cell["users"], cell["level"]): cell for cell in summary["surface"]}
    assert set(cells) == {(5, 0), (5, 1), (5, 2), (10, 0), (10, 1), (10, 2)}
    for users in (5, 10):
        p50 = [cells[(users, level)]["tiers"]["clickhouse"]["p50_ms"] for level in (0, 1, 2)]
        assert p50[0] < p50[1] < p50[2], (users, p50)
        added = [cells[(users, level)]["tiers"]["clickhouse"]["added_p50_ms"] for level in (1, 2)]
        assert abs(added[0] - 50) <= 5 and abs(added[1] - 150) <= 5, (users, added)
    assert "## Surface (users × fault level)" in (run_folder(tmp_path / "results") / "report.md").read_text()


def _timed_query(url: str, size: int) -> float:
    started = time.perf_counter()
    # Rows of nine x's and a newline: ``size`` bytes (ClickHouse 18.16 has no repeat()).
    answer = httpx.post(url, content=f"SELECT 'xxxxxxxxx' FROM system.numbers LIMIT {size // 10} "
                                     "FORMAT TabSeparated", timeout=30)
    answer.raise_for_status()
    assert len(answer.content) >= size
    return time.perf_counter() - started


def test_bandwidth_slows_an_answer_in_proportion_to_its_size_and_the_rate(
        local_stack: tuple[Endpoints, Path, str]) -> None:
    endpoints, _, _ = local_stack
    with ToxiproxyClient(endpoints.toxiproxy_api) as client:
        applier = ToxicApplier(client)
        try:
            timings = {}
            for rate_kbps in (20, 40):
                applier.apply([ToxicState(link=Link.CLICKHOUSE, type="bandwidth", stream="downstream",
                                          toxicity=1.0, attributes={"rate": rate_kbps})])
                for size in (20_000, 40_000):
                    timings[(rate_kbps, size)] = _timed_query(endpoints.clickhouse_url, size)
            unfaulted = _timed_query(endpoints.clickhouse_control_url or "", 40_000)
        finally:
            applier.clear()
    for (rate_kbps, size), seconds in timings.items():
        expected = size / (rate_kbps * 1000)
        # Toxiproxy's KB may be 1000 or 1024 bytes, and headers ride along: ±30 %.
        assert 0.7 * expected <= seconds <= 1.3 * expected + 0.1, (rate_kbps, size, seconds)
    assert timings[(20, 40_000)] == pytest.approx(2 * timings[(20, 20_000)], rel=0.3)
    assert timings[(20, 40_000)] == pytest.approx(2 * timings[(40, 40_000)], rel=0.3)
    assert unfaulted < 0.2  # the control path never carries the toxic


def test_a_link_down_fails_until_it_is_back_and_recovery_is_recorded(tmp_path: Path) -> None:
    require_local_stack_programs()
    results = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "harness", "run", "materialize-down", "--step-seconds", "6", "--results-dir",
         str(results), "--backend", "local", "--linger", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    folder = run_folder(results)
    summary = summary_of(folder)
    phases = [step["phase"] for step in summary["steps"]]
    assert phases == ["before", "fault", "recovery", "recovery", "recovery"]
    before, fault, *slices = summary["steps"]
    assert before["tiers"]["materialize"]["errors"] == 0
    down = fault["tiers"]["materialize"]
    assert down["errors"] > 0 and down["count"] <= down["errors"] * 0.05, down
    assert (fault["slo"]["materialize"], fault["cause"]["materialize"]) == ("fail", "fault")
    # The link is back: the last slice sees no errors and answers again.
    assert slices[-1]["tiers"]["materialize"]["errors"] == 0
    assert slices[-1]["tiers"]["materialize"]["count"] > 0
    [recovery] = summary["recovery"]
    materialize = recovery["tiers"]["materialize"]
    assert materialize["broke"] is True
    assert materialize["resolution_s"] == 2.0
    assert materialize["recovery_s"] is not None and 0 < materialize["recovery_s"] <= recovery["watched_s"]
    assert "## Recovery" in (folder / "report.md").read_text()
    assert_nothing_left(folder)


def test_a_breaking_point_search_on_the_clickhouse_link(tmp_path: Path) -> None:
    require_local_stack_programs()
    results = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-m", "harness", "search", "clickhouse-latency", "--tier", "clickhouse", "--users", "5",
         "--window-seconds", "7", "--tolerance", "100", "--results-dir", str(results), "--backend", "local"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
    assert "clickhouse (p95 < 500 ms) breaks at latency ≈" in completed.stdout
    search = summary_of(run_folder(results))["search"]
    assert search["outcome"] == "found"
    windows = search["windows"]
    baseline = next(w["value_ms"] for w in windows if w["magnitude"] == 0)
    # The SLO and the measured baseline imply where it breaks: 500 ms minus what the query costs anyway.
    implied = 500.0 - baseline
    assert abs(search["breaking_point"] - implied) <= search["tolerance"] + 5, (search, implied)
    assert search["breaks_at"] - search["holds_at"] <= search["tolerance"]
