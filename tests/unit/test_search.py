"""harness.search: bisection over fault magnitudes from window verdicts, without a stack (pure)."""

from __future__ import annotations

import pytest

from harness.errors import SpecError
from harness.plan import build_plan
from harness.record import StepRecord
from harness.search import BreakingPointSearch, default_range, fault_for, search_experiment, windows_needed
from harness.slo import TierResult, Verdict
from harness.spec import Experiment, TierSlo

EXPERIMENT = Experiment.model_validate({
    "name": "ch", "ramp": {"users": [5, 50], "step_s": 20, "settle_s": 5},
    "faults": [{"link": "clickhouse", "type": "latency", "levels": [None, {"latency_ms": 400}]}],
    "slos": {"clickhouse": {"p95_ms": 500}},
})


def _drive(search: BreakingPointSearch, verdict_of) -> list[float]:  # type: ignore[no-untyped-def]
    """Feed the search the verdict a fake stack gives at each magnitude it asks for."""
    plan = build_plan(search_experiment(EXPERIMENT, search, 6, 20))
    records: list[StepRecord] = []
    asked = []
    for step in plan.steps:
        toxics = search.toxics_for(step, records)
        if toxics is None:
            break
        magnitude = float(toxics[0].attributes["latency"]) if toxics else 0.0
        asked.append(magnitude)
        verdict = verdict_of(magnitude)
        records.append(StepRecord.model_validate({
            "index": step.index, "users": step.users, "toxics": [], "window": None,
            "tiers": {"clickhouse": TierResult(count=100, errors=0, p95_ms=magnitude + 10).model_dump()},
            "slo": {"clickhouse": verdict}, "reasons": {}, "flags": [], "generator_cpu_percent": None}))
    search.finish(records)
    return asked


def test_bisection_narrows_to_the_tolerance() -> None:
    search = BreakingPointSearch(EXPERIMENT, "clickhouse", 50, 0, 800, 40)
    asked = _drive(search, lambda m: Verdict.FAIL if m + 10 >= 500 else Verdict.PASS)
    assert asked[:4] == [800, 0, 400, 600]
    result = search.result()
    assert result.outcome == "found"
    assert result.holds_at is not None and result.breaks_at is not None
    assert result.breaks_at - result.holds_at <= 40
    assert result.holds_at < 490 <= result.breaks_at
    assert abs(result.breaking_point - 490) <= 40
    assert "clickhouse (p95 < 500 ms) breaks at latency ≈" in result.sentence()


def test_an_inconclusive_window_is_measured_again_not_guessed() -> None:
    seen: dict[float, int] = {}

    def verdict(m: float) -> Verdict:
        seen[m] = seen.get(m, 0) + 1
        if m == 400 and seen[m] == 1:
            return Verdict.INCONCLUSIVE
        return Verdict.FAIL if m >= 490 else Verdict.PASS

    search = BreakingPointSearch(EXPERIMENT, "clickhouse", 50, 0, 800, 40)
    asked = _drive(search, verdict)
    assert asked[:5] == [800, 0, 400, 400, 600]
    assert search.result().outcome == "found"


def test_a_window_that_stays_inconclusive_ends_undecided() -> None:
    search = BreakingPointSearch(EXPERIMENT, "clickhouse", 50, 0, 800, 40)
    _drive(search, lambda m: Verdict.INCONCLUSIVE if 0 < m < 800 else
           (Verdict.FAIL if m == 800 else Verdict.PASS))
    result = search.result()
    assert result.outcome == "undecided"
    assert (result.holds_at, result.breaks_at) == (0, 800)


@pytest.mark.parametrize(
    ("verdict", "outcome"),
    [(lambda m: Verdict.PASS, "holds-everywhere"), (lambda m: Verdict.FAIL, "breaks-without-fault")],
)
def test_the_ends_of_the_range(verdict, outcome: str) -> None:  # type: ignore[no-untyped-def]
    search = BreakingPointSearch(EXPERIMENT, "clickhouse", 50, 0, 800, 40)
    _drive(search, verdict)
    assert search.result().outcome == outcome


def test_bandwidth_breaks_downwards() -> None:
    experiment = Experiment.model_validate({
        "name": "bw", "ramp": {"users": [5], "step_s": 20, "settle_s": 5},
        "faults": [{"link": "redis", "type": "bandwidth", "levels": [{"rate_kbps": 1000}]}],
        "slos": {"redis": {"p99_ms": 1}}})
    assert default_range(experiment, fault_for(experiment, "redis")) == (1.0, 1000.0)
    search = BreakingPointSearch(experiment, "redis", 5, 1, 1000, 50)
    assert search.state(1.0)[0].attributes == {"rate": 1}
    assert search.state(0.0)[0].attributes == {"rate": 1000}


def test_what_a_search_cannot_move_is_bad_input() -> None:
    with_redis_slo = EXPERIMENT.model_copy(update={"slos": {**EXPERIMENT.slos, "redis": TierSlo(p99_ms=1)}})
    with pytest.raises(SpecError, match="no latency or bandwidth fault on the redis link"):
        fault_for(with_redis_slo, "redis")
    with pytest.raises(SpecError, match="no SLO for it"):
        fault_for(EXPERIMENT.model_copy(update={"slos": {"redis": TierSlo(p99_ms=1)}}), "clickhouse")


def test_enough_windows_are_planned() -> None:
    assert windows_needed(0, 800, 40) == 2 + 5 + 4
