"""--slo-source prometheus on a real Prometheus: PromQL reads a step's window exactly, and agrees with the harness.

The first test feeds the exporter known snapshots stamped at known cuts and
reads a window back through PromQL (no stack). The others read one run of
the short clickhouse-latency experiment with --slo-source prometheus (so
--observe): its Prometheus scrapes harness and backend, and each step's
PromQL percentiles agree with the harness's own, tier by tier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.contract import Series, StepLine, TierSeries
from harness.events import LiveWindow
from harness.histogram import decode, encode, merge, new_histogram, record_ms
from harness.metrics.buckets import bounds_with
from harness.metrics.exporter import MetricsExporter
from harness.metrics.observe import start_prometheus
from harness.metrics.promql import PromqlReader
from harness.spec import TierSlo, load_experiment
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import assert_nothing_left, events, summary_of
from tests.integration.watching import (
    BOTH_UP,
    free_port,
    gone,
    harness_run,
    in_step,
    query,
    require_prometheus,
    targets,
    wait_until,
)

pytestmark = pytest.mark.integration

SLOS = {"redis": TierSlo(p99_ms=1), "clickhouse": TierSlo(p95_ms=500)}


def _hdr(samples_ms: list[float]) -> str:
    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return encode(histogram)


def _chunk(redis_ms: list[float], control_ms: list[float]) -> StepLine:
    return StepLine(index=0, tiers={"redis": TierSeries(faulted=Series(hdr=_hdr(redis_ms)),
                                                         control=Series(hdr=_hdr(control_ms)))})


def bucket_of(value_ms: float, bounds_s: tuple[float, ...]) -> tuple[float, float]:
    """The (lower, upper] bucket, in ms, that holds ``value_ms``."""
    lower = 0.0
    for bound in bounds_s:
        if value_ms <= bound * 1000 + 1e-9:
            return lower, bound * 1000
        lower = bound * 1000
    return lower, float("inf")


def test_promql_reads_exactly_the_snapshots_between_a_windows_edges(tmp_path: Path) -> None:
    require_prometheus()
    now = float(int(time.time()))
    cuts = [now - 40, now - 30, now - 20, now - 10, now - 5]  # window: cuts[1] to cuts[3]
    chunks = [
        _chunk([5.0] * 50, [0.2]),  # before the window: slow, must not count
        _chunk([0.3] * 90 + [0.8] * 9 + [2.5], [0.2] * 10),
        _chunk([0.4] * 95 + [0.9] * 5, [0.25] * 10),
        _chunk([9.0] * 50, [0.2]),  # after the window
    ]
    with MetricsExporter(SLOS) as exporter:
        prometheus = start_prometheus(tmp_path, "promql-test", exporter.address, exporter.url)
        reader = PromqlReader(prometheus.url)
        try:
            exporter(LiveWindow(results={}, fresh=None, fresh_until=cuts[0]))
            for chunk, until in zip(chunks, cuts[1:], strict=True):
                exporter(LiveWindow(results={}, measured=chunk, fresh=chunk, fresh_until=until))
                deadline = time.monotonic() + 15
                while (reader.complete_until() or 0) < until and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert reader.complete_until() == pytest.approx(until, abs=0.002)
            view = reader.step(1, (cuts[1], cuts[3]), {"redis": [50.0, 99.0]})
            wider = reader.step(1, (cuts[1] + 1, cuts[3]), {"redis": [99.0]})
        finally:
            reader.close()
            prometheus.stop()
    assert view.problems == []
    redis = view.tiers["redis"]
    assert redis.faulted.count == 200 and redis.control is not None and redis.control.count == 20
    inside = merge([chunk.tiers["redis"].faulted.hdr for chunk in chunks[1:3]])
    bounds = bounds_with([0.001])
    for percentile in (50.0, 99.0):
        harness_ms = inside.get_value_at_percentile(percentile) / 1000
        lower, upper = bucket_of(harness_ms, bounds)
        promql_ms = redis.faulted.percentiles_ms[percentile]
        assert promql_ms is not None and lower <= promql_ms <= upper, (percentile, harness_ms, promql_ms)
    assert "@" in view.query and "histogram_quantile(0.5" in view.query
    # An edge where Prometheus holds no cut is said, not silently widened.
    assert wider.problems and "window's start" in wider.problems[0]


def _faulted_hdr_ms(step: dict[str, Any], tier: str, percentile: float) -> float | None:
    encoded = step["histograms"].get(tier)
    return decode(encoded).get_value_at_percentile(percentile) / 1000 if encoded else None


@dataclass
class PromqlRun:
    folder: Path
    returncode: int
    stderr: str
    prometheus_url: str
    targets: dict[str, str]  # inside step 2
    step_series: list[dict[str, Any]]  # flowforge_step == 2, inside step 2
    backend_series: list[dict[str, Any]]  # the backend's own histograms, by tier


@pytest.fixture(scope="module")
def promql_run(tmp_path_factory: pytest.TempPathFactory) -> PromqlRun:
    """The short clickhouse-latency run judged through PromQL (so with --observe), watched inside step 2."""
    require_local_stack_programs()
    require_prometheus()
    tmp_path = tmp_path_factory.mktemp("promql-run")
    with harness_run(tmp_path, "--backend", "local", "--slo-source", "prometheus", "--metrics-port",
                     str(free_port()), "--linger", "0") as (process, results):
        folder = in_step(process, results, 2)
        url = next(e["url"] for e in events(folder) if e["event"] == "prometheus")
        wait_until(lambda: targets(url) == BOTH_UP)
        seen = targets(url)
        step = wait_until(lambda: query(url, "flowforge_step == 2"))
        backend = wait_until(lambda: query(url, "sum by (tier) (flowforge_datastore_seconds_count)"))
        _, stderr = process.communicate(timeout=300)
    return PromqlRun(folder=folder, returncode=process.returncode, stderr=stderr, prometheus_url=url,
                     targets=seen, step_series=step, backend_series=backend)


def test_a_run_with_observe_prints_its_prometheus_which_scrapes_harness_and_backend(promql_run: PromqlRun) -> None:
    run = promql_run
    assert run.returncode in (0, 1), run.stderr[-3000:]
    assert run.targets == BOTH_UP
    assert run.step_series and run.step_series[0]["metric"]["job"] == "flowforge-harness"
    assert {series["metric"]["tier"] for series in run.backend_series} >= {"redis", "materialize", "clickhouse"}
    assert f"prometheus: {run.prometheus_url}" in run.stderr
    gone(f"{run.prometheus_url}/-/ready")
    assert (run.folder / "prometheus" / "prometheus.yml").is_file()
    assert_nothing_left(run.folder)


def test_a_run_judged_through_promql_agrees_with_the_harness_within_a_bucket(promql_run: PromqlRun) -> None:
    assert promql_run.returncode in (0, 1), promql_run.stderr[-3000:]
    folder = promql_run.folder
    assert "prometheus: http://127.0.0.1:" in promql_run.stderr
    views = {e["view"]["index"]: e["view"] for e in events(folder) if e["event"] == "step-promql"}
    assert sorted(views) == [1, 2, 3]
    assert summary_of(folder)["status"] == "completed"
    records = [e["record"] for e in events(folder) if e["event"] == "step"]  # with their histograms
    slos = load_experiment(folder / "experiment.yaml").slos
    bounds = bounds_with(ms / 1000 for slo in slos.values() for ms in slo.bounds().values())
    compared = 0
    for step in records:
        view = views[step["index"]]
        assert view["problems"] == [], view["problems"]
        for tier, seen in view["tiers"].items():
            harness_count = step["tiers"][tier]["count"]
            # Snapshots hold samples by completion, records by start: only the calls in flight at the edges differ.
            assert abs(seen["faulted"]["count"] - harness_count) <= max(5, 0.1 * harness_count), (tier, step["index"])
            for percentile, promql_ms in seen["faulted"]["percentiles_ms"].items():
                harness_ms = _faulted_hdr_ms(step, tier, float(percentile))
                assert harness_ms is not None and promql_ms is not None
                lower, upper = bucket_of(harness_ms, bounds)
                # Within the bucket that holds the harness's value, or the one beside it when the
                # edge samples moved the rank across a bucket edge.
                width = upper - lower
                assert lower - width <= promql_ms <= upper + width, (tier, step["index"], harness_ms, promql_ms)
                compared += 1
            # The verdicts recorded are PromQL's.
            if step["slo"][tier] in ("pass", "fail") and tier in step["reasons"]:
                assert all(reason.startswith("PromQL: ") for reason in step["reasons"][tier])
    assert compared >= 3 * 4  # four latency-bounded tiers, three steps

