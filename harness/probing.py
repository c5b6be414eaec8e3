"""How fast each datastore probe calls, derived from the plan and the SLOs (pure).

Enough samples by construction: each step's window must hold enough samples
per path for the SLO's percentile to be decided. A two-sided 95 % interval
exists from 59 samples for p95 and 299 for p99, but only has room to be
narrow well above that, hence the targets below. Within a floor (a store
woken from idle every 50 ms answers measurably slower: Redis p99 1.4 ms at
20/s against 0.8 ms at 100/s through the proxy) and a cap that keeps the
probes from becoming the load (a ClickHouse count over a million rows costs
milliseconds of CPU each).

The pool (connections, each on its own share of the open-model schedule) is
sized so the slowest call the plan can cause still leaves the schedule on
time: rate × worst latency, doubled.
"""

from __future__ import annotations

import math

from harness.confidence import min_two_sided
from harness.contract import ProbeSettings
from harness.plan import Plan
from harness.spec import TierSlo
from harness.tiers import DATASTORE_TIERS

# Samples per path and window that make an interval for that percentile narrow.
TARGET_SAMPLES = {50.0: 100, 90.0: 300, 95.0: 400, 99.0: 1000, 99.9: 5000}
DEFAULT_TARGET = 300
# Calls per second per path: (floor, cap).
RATE_LIMITS = {"redis": (100.0, 250.0), "materialize": (50.0, 200.0), "clickhouse": (2.0, 10.0)}
# What a call costs without any fault, generously (pool sizing only).
BASE_LATENCY_MS = {"redis": 2.0, "materialize": 10.0, "clickhouse": 100.0}
# A bandwidth toxic's delay depends on the answer's size: assume this much.
BANDWIDTH_ALLOWANCE_MS = 500.0
PROBE_TIMEOUT_MS = 10_000.0
POOL_LIMITS = (2, 64)
# The reference backend pushes to each dashboard viewer every 500 ms.
PUSHES_PER_VIEWER_S = 2.0
VIEWER_LIMITS = (2, 40)


def judged_window_s(plan: Plan) -> float:
    """The shortest window whose verdict counts. Recovery slices are read on point values at the
    resolution the rates allow; sizing the probes for them would make the probes the load."""
    windows = [step.window_s for step in plan.steps if step.phase != "recovery"]
    return min(windows or [step.window_s for step in plan.steps] or [1.0])


def probe_settings(plan: Plan, slos: dict[str, TierSlo]) -> dict[str, ProbeSettings]:
    window_s = judged_window_s(plan)
    settings = {}
    for tier in DATASTORE_TIERS:
        slo = slos.get(tier)
        percentiles = list(slo.bounds()) if slo else []
        wanted = max((TARGET_SAMPLES.get(p, DEFAULT_TARGET) for p in percentiles), default=DEFAULT_TARGET)
        floor, cap = RATE_LIMITS[tier]
        rate = min(max(wanted / window_s, floor), cap)
        worst_ms = BASE_LATENCY_MS[tier] + worst_fault_ms(plan, tier)
        # The pool cannot grow without end (a thread per connection): past its cap the
        # rate comes down instead, so the schedule still keeps up with the slowest call.
        rate = min(rate, POOL_LIMITS[1] / (worst_ms / 1000.0 * 2))
        pool = math.ceil(rate * worst_ms / 1000.0 * 2)
        settings[tier] = ProbeSettings(rate_per_s=round(rate, 2), pool_size=min(max(pool, POOL_LIMITS[0]),
                                                                                 POOL_LIMITS[1]))
    settings["websocket"] = viewer_settings(window_s, slos.get("websocket"))
    return settings


def viewer_settings(window_s: float, slo: TierSlo | None) -> ProbeSettings:
    """Viewers per path so that one window's pushes decide the WebSocket SLO's percentile."""
    percentiles = list(slo.bounds()) if slo else []
    wanted = max((TARGET_SAMPLES.get(p, DEFAULT_TARGET) for p in percentiles), default=DEFAULT_TARGET)
    viewers = math.ceil(wanted / (window_s * PUSHES_PER_VIEWER_S))
    return ProbeSettings(rate_per_s=PUSHES_PER_VIEWER_S,
                         pool_size=min(max(viewers, VIEWER_LIMITS[0]), VIEWER_LIMITS[1]))


def worst_fault_ms(plan: Plan, link: str) -> float:
    """The most delay the plan's toxics put on ``link`` in any step."""
    worst = 0.0
    for step in plan.steps:
        delay = 0.0
        for toxic in step.toxics:
            if str(toxic.link) != link:
                continue
            if toxic.type == "latency":
                delay += toxic.attributes.get("latency", 0) + toxic.attributes.get("jitter", 0)
            elif toxic.type == "timeout":
                # A call holds until the toxic's timeout (0: until the probe's own 10 s timeout).
                delay += toxic.attributes.get("timeout", 0) or PROBE_TIMEOUT_MS
            elif toxic.type in ("bandwidth", "slicer"):
                delay += BANDWIDTH_ALLOWANCE_MS
            # down, reset_peer, limit_data, slow_close fail or close: no slower calls to wait for
        worst = max(worst, delay)
    return worst


def expected_samples(tier: str, settings: ProbeSettings, window_s: float) -> int:
    """Samples per path in one window: calls at the probe's rate, or every viewer's pushes."""
    per_s = settings.rate_per_s * (settings.pool_size if tier == "websocket" else 1)
    return int(per_s * window_s)


def shortfalls(plan: Plan, slos: dict[str, TierSlo], settings: dict[str, ProbeSettings]) -> list[str]:
    """Tiers whose windows cannot hold enough samples for a two-sided interval, even at the cap."""
    window_s = judged_window_s(plan)
    problems = []
    for tier, probe in settings.items():
        slo = slos.get(tier)
        for percentile in (slo.bounds() if slo else {}):
            needed = min_two_sided(percentile / 100.0)
            expected = expected_samples(tier, probe, window_s)
            if expected < needed:
                problems.append(f"{tier}: {expected} samples per path in a {window_s:g} s window, fewer than "
                                f"the {needed} a two-sided interval of p{percentile:g} needs: lengthen the steps")
    return problems
