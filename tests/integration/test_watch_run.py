"""Watching a real short run from outside: the harness's /metrics and Locust's web UI while the steps run.

The shared watched run of conftest.py (the short clickhouse-latency run, three
8 s steps: no toxic, 100 ms, 200 ms on the ClickHouse link, on the local
stack), scraped as Prometheus would inside step 2 and after its end.
"""

from __future__ import annotations

import pytest

from tests.integration.shortrun import TIERS, assert_nothing_left, events, summary_of
from tests.integration.watched_run import WatchedRun, assert_judged
from tests.integration.watching import Samples, gone

pytestmark = pytest.mark.integration


def latency(samples: Samples, tier: str, path: str, le: str = "+Inf") -> float:
    return samples.get(("flowforge_tier_latency_seconds_bucket", (("le", le), ("path", path), ("tier", tier))), 0.0)


def test_metrics_expose_every_series_with_the_steps_values(watched_short_run: WatchedRun) -> None:
    run = watched_short_run
    assert_judged(run)
    folder, during, after = run.folder, run.during, run.after
    # Inside step 2: 10 users, 100 ms on the ClickHouse link; a live window or two in.
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
    assert f"metrics: {run.metrics_url}" in run.stderr
    gone(run.metrics_url)
    assert_nothing_left(folder)
    assert any(e["event"] == "step" for e in events(folder))


def test_web_keeps_locusts_ui_while_the_engine_drives_the_ramp(watched_short_run: WatchedRun) -> None:
    run = watched_short_run
    assert_judged(run)
    assert "locust" in run.web_page.lower()
    # The plan's step 2 (10 users) drives Locust, UI or not; its requests show in the UI's stats.
    stats = run.web_stats
    assert stats, "Locust never ran step 2's 10 users"
    assert stats["state"] in ("running", "spawning")
    assert any(row["num_requests"] > 0 for row in stats["stats"])
    assert f"locust web UI: {run.web_url}" in run.stderr
    assert [step["users_running"] for step in summary_of(run.folder)["steps"]] == [5, 10, 10]
    gone(run.web_url)
    assert_nothing_left(run.folder)
