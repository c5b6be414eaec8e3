"""--observe on real processes: Debian's Prometheus scrapes the harness's /metrics, and stops with the run.

The first test needs only Prometheus (the harness's exporter stands in for
the backend too). Runs with --observe are watched where a run is made anyway:
a local one (through --slo-source prometheus) in test_slo_through_promql.py,
the docker offline one in test_docker_backend.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.events import ToxicsApplied
from harness.metrics.exporter import MetricsExporter
from harness.metrics.observe import start_prometheus
from harness.spec import TierSlo
from harness.stack.ownership import RECORD_FILE, read_record
from tests.integration.watching import (
    BOTH_UP,
    gone,
    query,
    require_prometheus,
    targets,
    wait_until,
)

pytestmark = pytest.mark.integration


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
