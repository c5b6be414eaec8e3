"""harness.plan: step timings, toxics per step, and which step a moment or a sample belongs to."""

from __future__ import annotations

from typing import Any

import pytest

from harness.plan import Plan, build_plan, step_at, step_for_sample
from harness.spec import Experiment
from toxics.schedule import toxics_for_step


def _experiment(users: list[int], step_s: float = 60, settle_s: float = 10, spawn_rate: float = 10,
                faults: list[dict[str, Any]] | None = None) -> Experiment:
    return Experiment.model_validate({
        "name": "plan-test",
        "ramp": {"users": users, "step_s": step_s, "settle_s": settle_s, "spawn_rate": spawn_rate},
        "faults": faults or [],
    })


FAULTS = [
    {"link": "clickhouse", "type": "latency", "levels": [None, {"latency_ms": 50}, {"latency_ms": 100}]},
    {"link": "redis", "type": "bandwidth", "stream": "upstream", "toxicity": 0.5,
     "levels": [{"rate_kbps": 100}, None, None]},
]


@pytest.mark.parametrize(
    ("step_s", "settle_s", "expected"),
    [
        # (index, users, start_s, window_start_s, end_s, flush_s); grace = clamp(settle, 0.5, 3)
        (60, 10, [(1, 5, 0, 10, 60, 63), (2, 10, 60, 70, 120, 123), (3, 25, 120, 130, 180, 183)]),
        (8, 2, [(1, 5, 0, 2, 8, 10), (2, 10, 8, 10, 16, 18), (3, 25, 16, 18, 24, 26)]),
        (10, 1, [(1, 5, 0, 1, 10, 11), (2, 10, 10, 11, 20, 21), (3, 25, 20, 21, 30, 31)]),
        (5, 0, [(1, 5, 0, 0, 5, 5.5), (2, 10, 5, 5, 10, 10.5), (3, 25, 10, 10, 15, 15.5)]),
    ],
)
def test_step_timings(step_s: float, settle_s: float, expected: list[tuple[float, ...]]) -> None:
    plan = build_plan(_experiment([5, 10, 25], step_s=step_s, settle_s=settle_s))
    got = [(s.index, s.users, s.start_s, s.window_start_s, s.end_s, s.flush_s) for s in plan.steps]
    assert got == expected
    assert all(s.window_s == step_s - settle_s for s in plan.steps)
    assert plan.duration_s == expected[-1][-1]


def test_plan_carries_name_users_and_spawn_rate() -> None:
    plan = build_plan(_experiment([5, 10, 25, 50, 100], spawn_rate=2.5))
    assert plan.experiment == "plan-test"
    assert [s.users for s in plan.steps] == [5, 10, 25, 50, 100]
    assert [s.index for s in plan.steps] == [1, 2, 3, 4, 5]
    assert {s.spawn_rate for s in plan.steps} == {2.5}


def test_steps_follow_each_other_without_gaps() -> None:
    plan = build_plan(_experiment([1, 2, 3, 4], step_s=30, settle_s=5))
    for before, after in zip(plan.steps, plan.steps[1:], strict=False):
        assert before.end_s == after.start_s
        # step k's record is written while step k+1 still settles, before it measures
        assert after.start_s < before.flush_s <= after.window_start_s


def test_toxics_per_step_come_from_the_schedule() -> None:
    experiment = _experiment([5, 10, 25], faults=FAULTS)
    plan = build_plan(experiment)
    for position, step in enumerate(plan.steps):
        assert step.toxics == toxics_for_step(experiment.faults, position)
    readable = [[(t.link.value, t.type, t.stream, t.toxicity, t.attributes) for t in s.toxics] for s in plan.steps]
    assert readable == [
        [("redis", "bandwidth", "upstream", 0.5, {"rate": 100})],
        [("clickhouse", "latency", "downstream", 1.0, {"latency": 50, "jitter": 0})],
        [("clickhouse", "latency", "downstream", 1.0, {"latency": 100, "jitter": 0})],
    ]


def test_no_faults_no_toxics() -> None:
    assert all(step.toxics == [] for step in build_plan(_experiment([5, 10])).steps)


def test_empty_plan_has_zero_duration() -> None:
    assert Plan(experiment="x", steps=[]).duration_s == 0.0


PLAN = build_plan(_experiment([5, 10, 25], step_s=60, settle_s=10))


@pytest.mark.parametrize(
    ("elapsed_s", "index"),
    [(-0.001, None), (0, 1), (9.999, 1), (10, 1), (59.999, 1), (60, 2), (119.999, 2), (120, 3),
     (179.999, 3), (180, None), (182, None)],
)
def test_step_at(elapsed_s: float, index: int | None) -> None:
    step = step_at(PLAN, elapsed_s)
    assert (step.index if step else None) == index


@pytest.mark.parametrize(
    ("elapsed_s", "index"),
    [
        (-1, None),        # before the plan
        (0, None),         # step 1 settling
        (9.999, None),
        (10, 1),           # window opens: inclusive
        (35, 1),
        (59.999, 1),
        (60, None),        # window closes: exclusive; step 2 settling
        (69.999, None),
        (70, 2),
        (119.999, 2),
        (120, None),
        (130, 3),
        (179.999, 3),
        (180, None),       # after the last window
        (181, None),       # inside the last flush grace
    ],
)
def test_step_for_sample_at_boundaries(elapsed_s: float, index: int | None) -> None:
    step = step_for_sample(PLAN, elapsed_s)
    assert (step.index if step else None) == index


def test_step_for_sample_without_settle_has_no_gap() -> None:
    plan = build_plan(_experiment([5, 10], step_s=5, settle_s=0))
    assert step_for_sample(plan, 0).index == 1
    assert step_for_sample(plan, 4.999).index == 1
    assert step_for_sample(plan, 5).index == 2
    assert step_for_sample(plan, 10) is None
