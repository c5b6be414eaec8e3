"""harness.contract: where every load process cuts its live snapshots (pure)."""

from __future__ import annotations

import pytest

from harness.contract import live_cut_after
from harness.plan import Plan, Step

# Two 10 s steps with 2 s settle: window edges at 2, 10, 12 and 20 s.
PLAN = Plan(experiment="cuts", steps=[
    Step(index=1, users=5, spawn_rate=10, start_s=0, window_start_s=2, end_s=10, flush_s=11, toxics=[]),
    Step(index=2, users=10, spawn_rate=10, start_s=10, window_start_s=12, end_s=20, flush_s=21, toxics=[]),
])


@pytest.mark.parametrize(("elapsed_s", "cut_s"), [
    (0.0, 2.0), (1.99, 2.0),  # settling before the first window
    (2.0, 6.0), (5.9, 6.0), (6.0, 10.0),  # the 8 s window in two 4 s parts
    (10.0, 12.0), (12.0, 16.0), (19.99, 20.0),
    (20.0, 25.0), (31.0, 35.0),  # after the plan: every 5 s
    (-1.0, 0.0),
])
def test_snapshots_end_at_window_edges_and_at_most_5_s_apart(elapsed_s: float, cut_s: float) -> None:
    assert live_cut_after(PLAN, elapsed_s) == cut_s


def test_no_snapshot_straddles_a_window_edge_on_a_real_plan() -> None:
    # 60 s steps, 10 s settle: windows of 50 s in ten 5 s parts.
    steps = [Step(index=i + 1, users=5, spawn_rate=10, start_s=60 * i, window_start_s=60 * i + 10,
                  end_s=60 * i + 60, flush_s=60 * i + 63, toxics=[]) for i in range(3)]
    plan = Plan(experiment="real", steps=steps)
    cuts, at = [], 0.0
    while at < 180:
        at = live_cut_after(plan, at)
        cuts.append(at)
    edges = {s.window_start_s for s in steps} | {s.end_s for s in steps}
    assert edges <= set(cuts)
    assert all(0 < b - a <= 5.0 for a, b in zip([0.0, *cuts], cuts, strict=False))
