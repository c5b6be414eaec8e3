"""Watching a real short run from outside: the harness's /metrics and Locust's web UI while the steps run.

The short clickhouse-latency run (three 8 s steps: no toxic, 100 ms, 200 ms
on the ClickHouse link) on the local stack, scraped as Prometheus would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import TIERS, assert_nothing_left, events, summary_of, wait_for_event
from tests.integration.watching import (
    Samples,
    finished,
    free_port,
    gone,
    harness_run,
    in_step,
    scrape,
    wait_until,
)

pytestmark = pytest.mark.integration


def latency(samples: Samples, tier: str, path: str, le: str = "+Inf") -> float:
    return samples.get(("flowforge_tier_latency_seconds_bucket", (("le", le), ("path", path), ("tier", tier))), 0.0)


def _in_step_two(samples: Samples) -> Samples:
    """The scrape once it shows step 2 and a live window of every tier (else nothing)."""
    every_tier = all(("flowforge_slo_ok", (("tier", tier),)) in samples for tier in TIERS)
    return samples if samples.get(("flowforge_step", ())) == 2 and every_tier else {}


def _with_ten_users(stats: dict[str, Any]) -> dict[str, Any]:
    return stats if stats["user_count"] == 10 else {}


def test_metrics_expose_every_series_with_the_steps_values(tmp_path: Path) -> None:
    require_local_stack_programs()
    port = free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    with harness_run(tmp_path, "--backend", "local", "--metrics-port", str(port), "--linger", "8") as (process,
                                                                                                       results):
        folder = in_step(process, results, 2)
        # Inside step 2: 10 users, 100 ms on the ClickHouse link; a live window or two in.
        during = wait_until(lambda: _in_step_two(scrape(url)), 15) or scrape(url)
        assert during[("flowforge_step", ())] == 2
        assert during[("flowforge_users", ())] == 10
        assert during[("flowforge_toxic_active", (("link", "clickhouse"), ("type", "latency")))] == 1
        assert during[("flowforge_run_info", (("backend", "local"), ("experiment", "clickhouse-latency-short"),
                                              ("run_id", folder.name)))] == 1
        for tier in TIERS:
            assert latency(during, tier, "faulted") > 0, f"no {tier} samples exported"
            assert during[("flowforge_slo_ok", (("tier", tier),))] in (0.0, 1.0)
        for tier in ("redis", "materialize", "clickhouse"):
            assert latency(during, tier, "control") > 0, f"no {tier} control samples exported"
        assert during[("flowforge_users_running", ())] > 0

        wait_for_event(process, results, lambda e: e["event"] == "run-end")
        assert wait_until(lambda: (folder / "summary.json").exists(), 30)
        after = scrape(url)  # lingering for the final scrape
        summary = summary_of(folder)
        assert after[("flowforge_step", ())] == 3
        # Cleared at the end: nothing we injected is on.
        assert after[("flowforge_toxic_active", (("link", "clickhouse"), ("type", "latency")))] == 0
        # Every sample of steps 1 and 2 had been exported by the time step 3 was recorded (snapshots
        # every few seconds; step 3's record comes 2 s after its window, 8 s after step 2's).
        for tier in TIERS:
            recorded = sum(step["tiers"][tier]["count"] for step in summary["steps"][:2])
            assert latency(after, tier, "faulted") >= recorded, tier
        # 100 and 200 ms on the faulted ClickHouse path only: the control path stays below 100 ms.
        faulted_total = latency(after, "clickhouse", "faulted")
        faulted_slow = faulted_total - latency(after, "clickhouse", "faulted", "0.1")
        control_total = latency(after, "clickhouse", "control")
        control_slow = control_total - latency(after, "clickhouse", "control", "0.1")
        assert faulted_slow / faulted_total > 0.3
        assert control_slow / control_total < 0.05
        stderr = finished(process)
    assert f"metrics: {url}" in stderr
    gone(url)
    assert_nothing_left(folder)
    assert any(e["event"] == "step" for e in events(folder))


def test_web_keeps_locusts_ui_while_the_engine_drives_the_ramp(tmp_path: Path) -> None:
    require_local_stack_programs()
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    with harness_run(tmp_path, "--backend", "local", "--web-port", str(port), "--linger", "0") as (process,
                                                                                                   results):
        folder = in_step(process, results, 2)
        page = httpx.get(f"{ui}/", timeout=5)
        assert page.status_code == 200 and "locust" in page.text.lower()
        # The plan's step 2 (10 users) drives Locust, UI or not; its requests show in the UI's stats.
        stats = wait_until(lambda: _with_ten_users(httpx.get(f"{ui}/stats/requests", timeout=5).json()), 10)
        assert stats, "Locust never ran step 2's 10 users"
        assert stats["state"] in ("running", "spawning")
        assert any(row["num_requests"] > 0 for row in stats["stats"])
        stderr = finished(process)
    assert f"locust web UI: {ui}" in stderr
    assert [step["users_running"] for step in summary_of(folder)["steps"]] == [5, 10, 10]
    gone(ui)
    assert_nothing_left(folder)
