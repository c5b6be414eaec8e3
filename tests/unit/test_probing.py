"""harness.probing: probe rates, pools and viewer counts derived from the plan and the SLOs (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.confidence import min_two_sided
from harness.plan import build_plan
from harness.probing import expected_samples, probe_settings, shortfalls, worst_fault_ms
from harness.spec import Experiment, TierSlo

SLOS = {"redis": TierSlo(p99_ms=1), "materialize": TierSlo(p99_ms=10), "clickhouse": TierSlo(p95_ms=500),
        "websocket": TierSlo(p95_ms=200)}


def _plan(step_s: float, settle_s: float, levels: list[Any] | None = None, link: str = "clickhouse"):
    faults = [{"link": link, "type": "latency", "levels": levels}] if levels else []
    users = [5] * (len(levels) if levels else 2)
    return build_plan(Experiment.model_validate({
        "name": "p", "ramp": {"users": users, "step_s": step_s, "settle_s": settle_s}, "faults": faults}))


@pytest.mark.parametrize(
    ("step_s", "settle_s", "tier", "rate", "pool"),
    [
        # Long windows: the floor keeps stores awake; a p99 needs no more.
        (60, 10, "redis", 100.0, 2),
        (60, 10, "materialize", 50.0, 2),
        (60, 10, "clickhouse", 8.0, 2),  # 400 samples for a p95 over 50 s
        # Short windows: rates rise to fill them, up to the cap.
        (8, 2, "redis", 166.67, 2),
        (8, 2, "clickhouse", 10.0, 2),
        (4, 1, "redis", 250.0, 2),
    ],
)
def test_rates_fill_each_window_within_floor_and_cap(step_s: float, settle_s: float, tier: str, rate: float,
                                                      pool: int) -> None:
    settings = probe_settings(_plan(step_s, settle_s), SLOS)[tier]
    assert (settings.rate_per_s, settings.pool_size) == (rate, pool)


def test_enough_samples_by_construction_for_the_default_ramp() -> None:
    plan = _plan(60, 10)
    settings = probe_settings(plan, SLOS)
    window = plan.steps[0].window_s
    for tier, slo in SLOS.items():
        for percentile in slo.bounds():
            assert expected_samples(tier, settings[tier], window) >= min_two_sided(percentile / 100), tier
    assert shortfalls(plan, SLOS, settings) == []


def test_the_pool_grows_with_the_worst_latency_the_plan_puts_on_the_link() -> None:
    plan = _plan(60, 10, [None, {"latency_ms": 200}, {"latency_ms": 400, "jitter_ms": 50}])
    assert worst_fault_ms(plan, "clickhouse") == 450.0
    assert worst_fault_ms(plan, "redis") == 0.0
    # 8/s × (0.1 + 0.45) s × 2 → 9 connections: a 450 ms call never holds the schedule back.
    assert probe_settings(plan, SLOS)["clickhouse"].pool_size == 9


@pytest.mark.parametrize(("step_s", "settle_s", "viewers"), [(60, 10, 4), (8, 2, 34), (2, 1, 40)])
def test_websocket_viewers_per_path(step_s: float, settle_s: float, viewers: int) -> None:
    assert probe_settings(_plan(step_s, settle_s), SLOS)["websocket"].pool_size == viewers


def test_a_window_too_short_even_at_the_cap_is_named() -> None:
    plan = _plan(2, 1)
    problems = shortfalls(plan, SLOS, probe_settings(plan, SLOS))
    assert any(problem.startswith("clickhouse: 10 samples per path in a 1 s window") for problem in problems)
