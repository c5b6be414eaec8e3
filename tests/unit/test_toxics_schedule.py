"""toxics.schedule: which toxics at which step, and the changes between steps."""

from __future__ import annotations

from typing import Any

import pytest

from toxics import Change, ChangeKind, Fault, Link, ToxicState, plan_changes, toxics_for_step
from toxics.errors import FaultPlanError

ADD, UPDATE, REMOVE = ChangeKind.ADD, ChangeKind.UPDATE, ChangeKind.REMOVE


def _fault(link: str, type_: str, levels: list[Any], **more: Any) -> Fault:
    return Fault.model_validate({"link": link, "type": type_, "levels": levels, **more})


def _state(link: str, type_: str = "latency", stream: str = "downstream", toxicity: float = 1.0, **attrs: int) -> ToxicState:
    return ToxicState(Link(link), type_, stream, toxicity, attrs)  # type: ignore[arg-type]


FAULTS = [
    _fault("clickhouse", "latency", [None, {"latency_ms": 50}, {"latency_ms": 100, "jitter_ms": 10}]),
    _fault("redis", "bandwidth", [{"rate_kbps": 100}, None, {"rate_kbps": 10}], stream="upstream", toxicity=0.5),
]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, [_state("redis", "bandwidth", "upstream", 0.5, rate=100)]),
        (1, [_state("clickhouse", latency=50, jitter=0)]),
        (
            2,
            [
                _state("clickhouse", latency=100, jitter=10),
                _state("redis", "bandwidth", "upstream", 0.5, rate=10),
            ],
        ),
    ],
)
def test_toxics_for_step(step: int, expected: list[ToxicState]) -> None:
    assert toxics_for_step(FAULTS, step) == expected


def test_no_faults_no_toxics() -> None:
    assert toxics_for_step([], 3) == []


@pytest.mark.parametrize("step", [3, -1])
def test_step_without_a_level_is_a_spec_error(step: int) -> None:
    with pytest.raises(FaultPlanError, match=f"faults.0: has 3 levels, no level for step {step}"):
        toxics_for_step(FAULTS, step)


def test_two_faults_making_the_same_toxic_is_a_spec_error() -> None:
    twice = [_fault("redis", "latency", [{"latency_ms": 1}]), _fault("redis", "latency", [{"latency_ms": 2}])]
    with pytest.raises(FaultPlanError, match="faults.1: a second latency downstream fault on link redis"):
        toxics_for_step(twice, 0)


def test_state_name_and_proxy() -> None:
    state = _state("websocket", "latency", "upstream", latency=5)
    assert (state.name, state.proxy) == ("ff-websocket-latency-upstream", "websocket")


LAT_50 = _state("clickhouse", latency=50, jitter=0)
LAT_100 = _state("clickhouse", latency=100, jitter=0)
LAT_100_HALF = _state("clickhouse", toxicity=0.5, latency=100, jitter=0)
LAT_UP = _state("clickhouse", stream="upstream", latency=50, jitter=0)
BW = _state("redis", "bandwidth", rate=10)
BW_5 = _state("redis", "bandwidth", rate=5)


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [
        ([], [], []),
        ([], [LAT_50], [(ADD, LAT_50)]),
        ([LAT_50], [LAT_50], []),
        ([LAT_50], [LAT_100], [(UPDATE, LAT_100)]),
        ([LAT_100], [LAT_100_HALF], [(UPDATE, LAT_100_HALF)]),
        ([LAT_50], [], [(REMOVE, LAT_50)]),
        # another stream is another toxic: added before the old one is removed
        ([LAT_50], [LAT_UP], [(ADD, LAT_UP), (REMOVE, LAT_50)]),
        # adds and updates (in desired order) before every remove
        ([BW, LAT_50], [LAT_100, LAT_UP], [(UPDATE, LAT_100), (ADD, LAT_UP), (REMOVE, BW)]),
        ([LAT_50, BW], [BW_5], [(UPDATE, BW_5), (REMOVE, LAT_50)]),
        ([LAT_50, BW], [BW, LAT_50], []),
    ],
)
def test_plan_changes(
    current: list[ToxicState], desired: list[ToxicState], expected: list[tuple[ChangeKind, ToxicState]]
) -> None:
    assert plan_changes(current, desired) == [Change(kind, state) for kind, state in expected]


def test_stepping_through_levels_updates_in_place() -> None:
    # The whole ramp: one add, then PATCHes of the same name, never remove-then-add.
    fault = [_fault("clickhouse", "latency", [{"latency_ms": 10}, {"latency_ms": 20}, {"latency_ms": 40}])]
    current: list[ToxicState] = []
    kinds = []
    for step in range(3):
        desired = toxics_for_step(fault, step)
        kinds += [(c.kind, c.name) for c in plan_changes(current, desired)]
        current = desired
    name = "ff-clickhouse-latency-downstream"
    assert kinds == [(ADD, name), (UPDATE, name), (UPDATE, name)]


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="desired toxics name ff-clickhouse-latency-downstream twice"):
        plan_changes([], [LAT_50, LAT_100])
