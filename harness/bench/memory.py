"""memory_per_viewer_kb: resident memory of the viewer Locust process per connected viewer.

(RSS at N viewers − RSS with none) / N, at the count ws_viewers_per_process
reports (the largest measured when none passed), from the same ramp.
"""

from __future__ import annotations

from typing import Any

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.stats import largest_passing
from harness.bench.viewer_ramp import ViewerRamp, viewer_ramp

NAME = "memory_per_viewer_kb"
GOAL_KB = 64


def per_viewer_kb(ramp: ViewerRamp, viewers: int) -> float:
    step = next(step for step in ramp.steps if step.viewers == viewers)
    if step.connected <= 0:
        raise BenchError(f"no viewer connected at {viewers}: nothing to divide by")
    return (step.rss_mb - ramp.idle_rss_mb) * 1024 / step.connected


def measure(ctx: BenchContext) -> dict[str, Any]:
    ramp = viewer_ramp(ctx)
    if not ramp.steps:
        raise BenchError("the viewer ramp measured no step")
    viewers = largest_passing([(step.viewers, step.passed) for step in ramp.steps]) or ramp.steps[0].viewers
    return {
        "kb": round(per_viewer_kb(ramp, viewers), 1),
        "viewers": viewers,
        "goal": f"< {GOAL_KB}",
        "idle_rss_mb": ramp.idle_rss_mb,
        "per_step_kb": {str(step.viewers): round(per_viewer_kb(ramp, step.viewers), 1)
                        for step in ramp.steps if step.connected > 0},
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [("memory per viewer", f"{result['kb']:g} KB (at {result['viewers']:,} viewers)", f"{result['goal']} KB")]
