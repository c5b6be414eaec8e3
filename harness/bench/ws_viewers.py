"""ws_viewers_per_process: how many WebSocket viewers one Locust process holds.

The largest viewer count at which the process stays under half a core with
every viewer connected, no delivery failure (lost, out of order, duplicate,
disconnected, connect) and every frame the server sent received; that count
and all smaller ones must pass. Delivery p95 is reported at that count.
"""

from __future__ import annotations

from typing import Any

from harness.bench.context import BenchContext
from harness.bench.stats import crossing, largest_passing
from harness.bench.viewer_ramp import ViewerRamp, viewer_ramp

NAME = "ws_viewers_per_process"
GOAL = 5000


def measure(ctx: BenchContext) -> dict[str, Any]:
    ramp = viewer_ramp(ctx)
    best = largest_passing([(step.viewers, step.passed) for step in ramp.steps])
    at_best = next((step for step in ramp.steps if step.viewers == best), None)
    return {
        "viewers": best or 0,
        "delivery_p95_ms": at_best.delivery_p95_ms if at_best else None,
        "cpu_percent": at_best.cpu_percent if at_best else None,
        "goal": f">= {GOAL}",
        "cpu_limit_percent": ramp.cpu_limit_percent,
        "push_hz": ramp.push_hz,
        "tried": [step.viewers for step in ramp.steps],
        # Between the grid's counts: where the Locust CPU line crosses the limit (None: no step crossed it).
        "viewers_at_cpu_limit": _at_limit(ramp),
        "steps": [step.model_dump() for step in ramp.steps],
    }


def _at_limit(ramp: ViewerRamp) -> int | None:
    points = [(step.viewers, step.cpu_percent) for step in ramp.steps if step.cpu_percent is not None]
    found = crossing(points, ramp.cpu_limit_percent)
    return None if found is None else int(round(found, -1))


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    p95 = result["delivery_p95_ms"]
    detail = f"delivery p95 {p95:g} ms, CPU {result['cpu_percent']:g} %" if p95 is not None else "none passed"
    failed = [step for step in result["steps"] if not step["passed"]]
    if failed:
        detail += f"; {failed[0]['viewers']}: {'; '.join(failed[0]['why'])}"
        if result.get("viewers_at_cpu_limit"):
            detail += f"; CPU reaches {result['cpu_limit_percent']:g} % near {result['viewers_at_cpu_limit']:,}"
    elif result["viewers"] == max(result["tried"], default=0):
        detail += "; the largest count tried"
    return [("WebSocket viewers per Locust process", f"{result['viewers']:,} ({detail})", result["goal"])]
