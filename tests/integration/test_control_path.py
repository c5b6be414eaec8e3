"""On the real local stack: a latency toxic on the Redis link only, read against the control path.

What a user checks: the added latency the harness reports for redis is the
fault's size (within max(1 ms, 3 %): Toxiproxy adds 0.1–0.8 ms to what is
asked); the other tiers gain next to nothing; the control series of the
faulted link does not move; the backend's and Redis's own views are there in
every step; the fault's verdict names the fault as its cause.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import assert_nothing_left, run_folder, run_harness, summary_of

pytestmark = pytest.mark.integration

REQUESTED_MS = 20.0

SPEC = f"""\
name: redis-latency-short
description: 20 ms on the Redis link in step 2 only
ramp:
  users: [5, 5]
  spawn_rate: 10
  step_s: 8
  settle_s: 2
faults:
  - link: redis
    type: latency
    levels: [null, {{latency_ms: {REQUESTED_MS:.0f}}}]
"""


def test_redis_fault_is_measured_against_its_control_path(tmp_path: Path) -> None:
    require_local_stack_programs()
    spec = tmp_path / "redis-latency-short.yaml"
    spec.write_text(SPEC)
    results = tmp_path / "results"
    completed = run_harness(spec, results, "--backend", "local", "--linger", "0")
    # 20 ms on a 1 ms SLO fails: exit 1 is the expected result, not a crash.
    assert completed.returncode == 1, completed.stderr[-3000:]
    folder = run_folder(results)
    summary = summary_of(folder)
    quiet, faulted = summary["steps"]

    redis = faulted["tiers"]["redis"]
    tolerance = max(1.0, 0.03 * REQUESTED_MS)
    assert abs(redis["added_ms"]["p50"] - REQUESTED_MS) <= tolerance, redis["added_ms"]
    assert faulted["links"]["redis"]["effective_added_ms"] == redis["added_ms"]["p50"]
    assert faulted["links"]["redis"]["requested_latency_ms"] == REQUESTED_MS
    assert (faulted["slo"]["redis"], faulted["cause"]["redis"]) == ("fail", "fault")

    # The control path of the faulted link does not move with the fault.
    assert abs(redis["control"]["p50_ms"] - quiet["tiers"]["redis"]["control"]["p50_ms"]) <= 1.0
    # Nothing was added where no fault was put.
    for tier in ("materialize", "clickhouse", "websocket"):
        added = faulted["tiers"][tier]["added_ms"]
        control_p50 = faulted["tiers"][tier]["control"]["p50_ms"]
        assert abs(added["p50"]) <= max(1.0, 0.1 * control_p50), (tier, added)
    assert set(faulted["links"]) == {"redis"}

    for step in summary["steps"]:
        for tier in ("redis", "materialize", "clickhouse"):
            tiers = step["tiers"][tier]
            assert tiers["control"]["count"] > 0, (step["index"], tier)
            assert tiers["uncorrected"]["count"] == tiers["count"]
            assert tiers["backend"]["count"] > 0, (step["index"], tier, "backend view")
        store = step["tiers"]["redis"]["store"]
        assert store["count"] > 0 and store["p99_ms"] is not None
        # Redis's own time for a GET is microseconds: far below what any client sees.
        assert store["p99_ms"] < step["tiers"]["redis"]["control"]["p50_ms"]
        assert step["host"]["hiccup_count"] > 0 and step["host"]["cpu_busy_percent"] is not None
        assert step["tiers"]["redis"]["ci_ms"][0] <= step["tiers"]["redis"]["p99_ms"]

    assert "| 2 | redis | redis latency 20 ms downstream | +" in (folder / "report.md").read_text()
    assert_nothing_left(folder)
