"""Schedules (per-step, matrix, phases) as plans, and what phases and matrices add to results (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import SpecError
from harness.plan import build_plan
from harness.record import StepRecord
from harness.recovery import holds, recoveries, surface
from harness.slo import TierResult, Verdict
from harness.spec import Experiment, TierSlo


def _experiment(**overrides: Any) -> Experiment:
    data: dict[str, Any] = {"name": "s", "ramp": {"users": [5, 50], "step_s": 10, "settle_s": 2}}
    data.update(overrides)
    return Experiment.model_validate(data)


LATENCY = {"link": "clickhouse", "type": "latency"}


def test_matrix_puts_every_level_at_every_user_count_with_no_fault_first() -> None:
    plan = build_plan(_experiment(schedule="matrix", faults=[{**LATENCY, "levels": [{"latency_ms": 100},
                                                                                     {"latency_ms": 300}]}]))
    cells = [(s.users, s.level, [t.attributes["latency"] for t in s.toxics]) for s in plan.steps]
    assert cells == [(5, 0, []), (5, 1, [100]), (5, 2, [300]), (50, 0, []), (50, 1, [100]), (50, 2, [300])]
    assert [s.start_s for s in plan.steps] == [0, 10, 20, 30, 40, 50]


def test_phases_are_before_fault_and_recovery_slices_per_user_count() -> None:
    plan = build_plan(_experiment(
        ramp={"users": [10], "settle_s": 2}, schedule="phases",
        phases={"before_s": 10, "fault_s": 6, "recovery_s": 5, "slice_s": 2},
        faults=[{"link": "materialize", "type": "down", "levels": [True]}]))
    steps = [(s.phase, s.start_s, s.window_start_s, s.end_s, len(s.toxics)) for s in plan.steps]
    assert steps == [("before", 0, 2, 10, 0), ("fault", 10, 12, 16, 1),
                     ("recovery", 16, 16, 18, 0), ("recovery", 18, 18, 20, 0), ("recovery", 20, 20, 22, 0)]
    assert plan.steps[1].toxics[0].disables_link


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"schedule": "matrix", "faults": [{**LATENCY, "levels": [None, {"latency_ms": 5}]}]},
         "faults.0.levels: a matrix adds the no-fault level"),
        ({"schedule": "matrix", "faults": [{**LATENCY, "levels": [{"latency_ms": 5}]},
                                           {"link": "redis", "type": "latency",
                                            "levels": [{"latency_ms": 1}, {"latency_ms": 2}]}]},
         "faults: a matrix moves every fault's levels together"),
        ({"schedule": "phases", "faults": [{**LATENCY, "levels": [{"latency_ms": 5}, {"latency_ms": 9}]}]},
         "faults.0.levels: the phases schedule puts one level on"),
        ({"schedule": "phases", "phases": {"fault_s": 2}, "faults": [{**LATENCY, "levels": [{"latency_ms": 5}]}]},
         "phases.fault_s: (2) must be longer than ramp.settle_s (2)"),
        ({"faults": [{**LATENCY, "levels": [None]}]}, "faults.0.levels: has 1 entries but ramp.users has 2"),
    ],
)
def test_schedule_problems_name_their_field(tmp_path: Any, overrides: dict[str, Any], message: str) -> None:
    import yaml

    from harness.spec import load_experiment

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "bad", "ramp": {"users": [5, 50], "step_s": 10, "settle_s": 2},
                                    **overrides}))
    with pytest.raises(SpecError) as caught:
        load_experiment(path)
    assert any(problem.startswith(message) for problem in caught.value.problems), caught.value.problems


SLO = {"materialize": TierSlo(p99_ms=10)}


def _record(index: int, phase: str, start: float, p99: float | None, errors: int = 0,
            verdict: Verdict = Verdict.PASS) -> StepRecord:
    count = 0 if p99 is None else 100
    tiers = {"materialize": {**TierResult(count=count, errors=errors, p50_ms=p99, p95_ms=p99,
                                          p99_ms=p99).model_dump()}}
    return StepRecord.model_validate({
        "index": index, "users": 10, "phase": phase, "toxics": [], "window": (start, start + 2.0),
        "tiers": tiers, "slo": {"materialize": verdict}, "reasons": {}, "flags": [], "generator_cpu_percent": None})


@pytest.mark.parametrize(
    ("slices", "recovered"),
    [
        ([3.0, 3.0, 3.0], 2.0),  # held from the first slice: at its end
        ([None, 40.0, 3.0, 3.0], 6.0),
        ([3.0, 40.0, 3.0], 6.0),  # held, broke again, held: counted from the last time it came back
        ([None, 40.0, 40.0], None),  # not within the watch
    ],
)
def test_recovery_time_is_when_it_held_for_good(slices: list[float | None], recovered: float | None) -> None:
    steps = [_record(1, "before", 0.0, 3.0), _record(2, "fault", 10.0, None, errors=50, verdict=Verdict.FAIL)]
    steps += [_record(3 + k, "recovery", 20.0 + 2 * k, value) for k, value in enumerate(slices)]
    [found] = recoveries(steps, SLO)
    assert found.fault_step == 2 and found.users == 10
    tier = found.tiers["materialize"]
    assert tier.broke and tier.recovery_s == recovered and tier.resolution_s == 2.0
    assert found.watched_s == 2.0 * len(slices)


def test_holds_reads_every_bound_and_needs_samples() -> None:
    slo = TierSlo(p99_ms=10, error_ratio=0.01)
    assert holds(slo, TierResult(count=100, errors=0, p99_ms=9))
    assert not holds(slo, TierResult(count=100, errors=0, p99_ms=10))
    assert not holds(slo, TierResult(count=90, errors=10, p99_ms=2))
    assert not holds(slo, TierResult(count=0, errors=0))
    assert not holds(slo, None)


def test_surface_has_a_cell_per_matrix_step() -> None:
    steps = [_record(1, "x", 0, 3.0).model_copy(update={"level": 0, "phase": None}),
             _record(2, "x", 10, 30.0, verdict=Verdict.FAIL).model_copy(update={"level": 1, "phase": None})]
    cells = surface(steps)
    assert [(c.level, c.tiers["materialize"]["p99_ms"], c.tiers["materialize"]["verdict"]) for c in cells] == [
        (0, 3.0, "pass"), (1, 30.0, "fail")]
