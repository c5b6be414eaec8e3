"""--observe on real processes: Debian's Prometheus scrapes the harness's /metrics, and stops with the run.

The first test needs only Prometheus (the harness's exporter stands in for
the backend too); the second runs the short clickhouse-latency experiment
with --observe, as a user would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.events import ToxicsApplied
from harness.metrics.exporter import MetricsExporter
from harness.metrics.observe import start_prometheus
from harness.spec import TierSlo
from harness.stack.ownership import RECORD_FILE, read_record
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import assert_nothing_left, events
from tests.integration.test_docker_backend import docker_env  # noqa: F401 - the fixture, for the docker test
from tests.integration.watching import (
    finished,
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
BOTH_UP = {"flowforge-harness": "up", "flowforge-backend": "up"}


def test_prometheus_scrapes_the_harness_and_stops(tmp_path: Path) -> None:
    require_prometheus()
    with MetricsExporter({"redis": TierSlo(p99_ms=1)}) as exporter:
        exporter(ToxicsApplied(step=3, total_steps=4, users=25, toxics=[], changes=[], active=[]))
        prometheus = start_prometheus(tmp_path, "observe-test", exporter.address, exporter.url)
        try:
            assert prometheus.url.startswith("http://127.0.0.1:")
            found = wait_until(lambda: query(prometheus.url, 'flowforge_step{job="flowforge-harness"}'))
            assert found and found[0]["value"][1] == "3"
            # The exporter stands in for the backend; each target is "unknown" until its first scrape.
            assert wait_until(lambda: targets(prometheus.url) == BOTH_UP), targets(prometheus.url)
            # Recorded as the run's, so cleanup finds it after a killed harness.
            owned, _ = read_record(tmp_path / RECORD_FILE)
            assert [o.name for o in owned] == ["prometheus"]
            assert owned[0].pid == prometheus.process.pid
        finally:
            prometheus.stop()
    assert not prometheus.process.running()
    assert (tmp_path / "prometheus" / "prometheus.yml").is_file()
    assert any((tmp_path / "prometheus" / "data").iterdir())
    assert "Server is ready to receive web requests" in (tmp_path / "logs" / "prometheus.log").read_text()
    gone(f"{prometheus.url}/-/ready")


def test_a_run_with_observe_prints_its_prometheus_which_scrapes_harness_and_backend(tmp_path: Path) -> None:
    require_local_stack_programs()
    require_prometheus()
    port = free_port()
    with harness_run(tmp_path, "--backend", "local", "--observe", "--metrics-port", str(port),
                     "--linger", "0") as (process, results):
        folder = in_step(process, results, 2)
        url = next(e["url"] for e in events(folder) if e["event"] == "prometheus")
        assert wait_until(lambda: targets(url) == BOTH_UP), targets(url)
        step = wait_until(lambda: query(url, "flowforge_step == 2"))
        assert step and step[0]["metric"]["job"] == "flowforge-harness"
        backend = wait_until(lambda: query(url, "sum by (tier) (flowforge_datastore_seconds_count)"))
        assert {series["metric"]["tier"] for series in backend} >= {"redis", "materialize", "clickhouse"}
        stderr = finished(process)
    assert f"prometheus: {url}" in stderr
    gone(f"{url}/-/ready")
    assert (folder / "prometheus" / "prometheus.yml").is_file()
    assert_nothing_left(folder)


@pytest.mark.usefixtures("docker_env")
def test_observe_on_the_docker_offline_stack_scrapes_the_published_backend(tmp_path: Path) -> None:
    """Debian's Prometheus on the host: the backend's port is published on 127.0.0.1 like every other."""
    require_prometheus()
    with harness_run(tmp_path, "--backend", "docker", "--offline", "--observe", "--linger", "0") as (process,
                                                                                                    results):
        folder = in_step(process, results, 2, 600)
        url = next(e["url"] for e in events(folder) if e["event"] == "prometheus")
        assert wait_until(lambda: targets(url) == BOTH_UP), targets(url)
        assert wait_until(lambda: query(url, "sum(flowforge_datastore_seconds_count) > 0"))
        finished(process)
    gone(f"{url}/-/ready")
