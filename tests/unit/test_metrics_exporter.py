"""harness.metrics.exporter: the run's /metrics, fed by events, scraped over real HTTP on loopback."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.contract import Series, StepLine, TierSeries
from harness.errors import SpecError
from harness.events import LiveWindow, RunStarted, ToxicsApplied, ToxicsCleared
from harness.histogram import encode, new_histogram, record_ms
from harness.metrics.exporter import MetricsExporter
from harness.plan import Plan
from harness.slo import TierResult, point_holds
from harness.spec import TierSlo
from toxics.links import Link
from toxics.schedule import ToxicState

SLOS = {"redis": TierSlo(p99_ms=1), "http": TierSlo(error_ratio=0.01)}
LATENCY = ToxicState(link=Link.REDIS, type="latency", stream="downstream", toxicity=1.0,
                     attributes={"latency": 5, "jitter": 0})


def _hdr(*samples_ms: float) -> str:
    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return encode(histogram)


def _line(faulted_ms: list[float], control_ms: list[float], errors: int = 0, users: int | None = None) -> StepLine:
    return StepLine(index=0, window=(1.0, 6.0), users=users, tiers={
        "redis": TierSeries(faulted=Series(hdr=_hdr(*faulted_ms), errors=errors), control=Series(hdr=_hdr(*control_ms)))})


def _scrape(exporter: MetricsExporter) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(exporter.url, timeout=5).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


@pytest.fixture
def exporter():
    with MetricsExporter(SLOS) as running:
        yield running


def test_serves_every_series_of_the_run_on_loopback(exporter: MetricsExporter) -> None:
    assert exporter.url.startswith("http://127.0.0.1:") and exporter.port > 0
    exporter(RunStarted(experiment="redis-latency", run_id="r-1", backend="local", planned_steps=2, slos={},
                        plan=Plan(experiment="redis-latency", steps=[]), probes={}, folder=Path("/tmp/r-1")))
    exporter(ToxicsApplied(step=2, total_steps=3, users=10, toxics=[LATENCY], changes=[], active=[LATENCY]))
    exporter(LiveWindow(results={"redis": TierResult(count=3, errors=0, p99_ms=5.2)},
                        measured=_line([0.4, 0.6, 5.2], [0.3], users=9),
                        fresh=_line([0.4, 0.6, 5.2], [0.3], errors=2)))
    metrics = _scrape(exporter)

    def redis(path: str, le: str) -> float:
        return metrics[("flowforge_tier_latency_seconds_bucket", (("le", le), ("path", path), ("tier", "redis")))]

    assert redis("faulted", "0.0005") == 1 and redis("faulted", "0.001") == 2 and redis("faulted", "+Inf") == 3
    assert redis("control", "0.0005") == 1
    assert metrics[("flowforge_tier_latency_seconds_count", (("path", "faulted"), ("tier", "redis")))] == 3
    assert metrics[("flowforge_tier_errors_total", (("path", "faulted"), ("tier", "redis")))] == 2
    assert metrics[("flowforge_slo_ok", (("tier", "redis"),))] == 0  # p99 5.2 ms against 1 ms
    assert ("flowforge_slo_ok", (("tier", "http"),)) not in metrics  # no data, no claim
    assert metrics[("flowforge_slo_bound_seconds", (("quantile", "0.99"), ("tier", "redis")))] == 0.001
    assert metrics[("flowforge_step", ())] == 2
    assert metrics[("flowforge_users", ())] == 10
    assert metrics[("flowforge_users_running", ())] == 9
    assert metrics[("flowforge_toxic_active", (("link", "redis"), ("type", "latency")))] == 1
    assert metrics[("flowforge_run_info", (("backend", "local"), ("experiment", "redis-latency"),
                                           ("run_id", "r-1")))] == 1


def test_counts_accumulate_over_fresh_snapshots_only(exporter: MetricsExporter) -> None:
    first = _line([0.2, 0.2], [])
    exporter(LiveWindow(results={}, measured=first, fresh=first))
    # A window whose snapshots were all seen before adds nothing.
    exporter(LiveWindow(results={}, measured=first, fresh=None))
    second = _line([3.0], [])
    exporter(LiveWindow(results={}, measured=second, fresh=second, fresh_until=1_700_000_006.0))
    metrics = _scrape(exporter)
    key = (("path", "faulted"), ("tier", "redis"))
    assert metrics[("flowforge_tier_latency_seconds_count", key)] == 3
    assert metrics[("flowforge_tier_latency_seconds_sum", key)] == pytest.approx(0.0034, rel=1e-3)
    # Stamped with the cut the counts are complete up to (ms), not with the scrape's time.
    text = httpx.get(exporter.url, timeout=5).text
    assert 'flowforge_tier_latency_seconds_count{path="faulted",tier="redis"} 3.0 1700000006000' in text


def test_removed_toxics_read_zero(exporter: MetricsExporter) -> None:
    exporter(ToxicsApplied(step=1, total_steps=2, users=5, toxics=[LATENCY], changes=[], active=[LATENCY]))
    exporter(ToxicsCleared(removed=[LATENCY.name]))
    assert _scrape(exporter)[("flowforge_toxic_active", (("link", "redis"), ("type", "latency")))] == 0


@pytest.mark.parametrize(("slo", "result", "holds"), [
    (TierSlo(p99_ms=1), TierResult(count=10, errors=0, p99_ms=0.9), True),
    (TierSlo(p99_ms=1), TierResult(count=10, errors=0, p99_ms=1.0), False),  # bounds are strict
    (TierSlo(error_ratio=0.01), TierResult(count=99, errors=1), False),
    (TierSlo(error_ratio=0.01), TierResult(count=1000, errors=1), True),
    (TierSlo(p95_ms=500, error_ratio=0.01), TierResult(count=0, errors=3), False),
    (TierSlo(p99_ms=1), TierResult(count=0, errors=0), None),
    (TierSlo(p99_ms=1), None, None),
], ids=["below", "at the bound", "errors at the bound", "errors below", "only errors", "empty", "absent"])
def test_slo_ok_is_a_point_check_of_the_live_window(slo: TierSlo, result: TierResult | None,
                                                     holds: bool | None) -> None:
    assert point_holds(slo, result) is holds


def test_a_port_in_use_is_bad_input_naming_the_flag() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SpecError, match=f"--metrics-port {port}: cannot listen on 127.0.0.1"):
            MetricsExporter(SLOS, port).start()


def test_close_stops_listening() -> None:
    exporter = MetricsExporter(SLOS).start()
    url = exporter.url
    exporter.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)
