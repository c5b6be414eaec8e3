"""harness.slo: bound verdicts from confidence intervals, causes, and how verdicts add up (table-driven)."""

from __future__ import annotations

import pytest

from harness.slo import Cause, Estimate, Evidence, TierResult, Verdict, judge, overall, store_holds
from harness.spec import TierSlo

PASS, FAIL, INC, NO_DATA = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NO_DATA
FAULT, LOAD, HOST = Cause.FAULT, Cause.LOAD, Cause.HOST
REDIS = TierSlo(p99_ms=1)


def est(value: float, low: float, high: float | None, percentile: float = 99.0) -> Estimate:
    return Estimate(percentile=percentile, value_ms=value, low_ms=low, high_ms=high)


def evidence(faulted: Estimate | None, control: Estimate | None = None, store: bool | None = None,
             link_faulted: bool = False, added: float | None = None, count: int = 1000,
             errors: int = 0) -> Evidence:
    return Evidence(result=TierResult(count=count, errors=errors),
                    estimates={99.0: faulted} if faulted else {},
                    control={99.0: control} if control else {},
                    store_holds={99.0: store}, link_faulted=link_faulted, added_p50_ms=added)


@pytest.mark.parametrize(
    ("estimate", "bound", "verdict"),
    [
        (est(0.5, 0.4, 0.6), 1.0, PASS),
        (est(0.9, 0.8, 0.99), 1.0, PASS),
        (est(0.9, 0.8, 1.0), 1.0, INC),  # the bound is strict: an upper end on it does not pass
        (est(1.1, 0.9, 1.3), 1.0, INC),
        (est(1.5, 1.0, 2.0), 1.0, FAIL),
        (est(1.5, 1.2, None), 1.0, FAIL),  # few samples: no upper end, but the lower one is past the bound
        (est(0.5, 0.3, None), 1.0, INC),  # few samples: nothing shows the tail is below
    ],
)
def test_a_bound_is_judged_on_the_interval(estimate: Estimate, bound: float, verdict: Verdict) -> None:
    assert estimate.against(bound) == verdict


@pytest.mark.parametrize(
    ("given", "verdict", "cause"),
    [
        # faulted holds
        (evidence(est(0.5, 0.4, 0.6)), PASS, None),
        # the fault breaks it while the control path holds
        (evidence(est(6.0, 5.8, 6.3), control=est(0.5, 0.4, 0.6), link_faulted=True, added=5.5), FAIL, FAULT),
        # control broken by the host too, but the fault alone is more than the bound
        (evidence(est(8.0, 7.5, 9.0), control=est(2.0, 1.5, 2.5), link_faulted=True, added=5.5), FAIL, FAULT),
        # control broken too and the store is slow itself
        (evidence(est(3.0, 2.5, 3.5), control=est(3.0, 2.5, 3.5), store=False), FAIL, LOAD),
        # control broken too while the store holds with room: this host cannot judge it
        (evidence(est(1.9, 1.4, 2.2), control=est(1.8, 1.3, 2.1), store=True), INC, HOST),
        # a straddling interval, both paths alike, store fast: host
        (evidence(est(1.1, 0.9, 1.4), control=est(1.1, 0.9, 1.3), store=True), INC, HOST),
        # a straddling interval without a store view: no cause given
        (evidence(est(1.1, 0.9, 1.4), control=est(1.1, 0.9, 1.3)), INC, None),
        # nothing to compare with: the toxic on the link, or else load
        (evidence(est(3.0, 2.5, 3.5), link_faulted=True), FAIL, FAULT),
        (evidence(est(3.0, 2.5, 3.5)), FAIL, LOAD),
        # a small toxic on the link, control broken by the host: not the fault's doing alone
        (evidence(est(2.0, 1.8, 2.3), control=est(1.8, 1.5, 2.1), store=True, link_faulted=True, added=0.2),
         INC, HOST),
        # every call failed
        (evidence(None, count=0, errors=5, link_faulted=True), FAIL, FAULT),
        (evidence(None, count=0, errors=0), NO_DATA, None),
    ],
)
def test_verdict_and_cause(given: Evidence, verdict: Verdict, cause: Cause | None) -> None:
    got = judge(REDIS, given)
    assert (got.verdict, got.cause) == (verdict, cause)
    if verdict in (FAIL, INC):
        assert got.reasons


def test_the_judged_interval_travels_with_the_verdict() -> None:
    got = judge(REDIS, evidence(est(1.5, 1.2, 1.9), control=est(0.5, 0.4, 0.6), link_faulted=True))
    assert got.ci_ms == (1.2, 1.9)
    assert got.percentile == 99.0
    assert got.reasons == ["p99 1.5 ms (95 % CI 1.2–1.9) vs bound 1 ms (the control path holds)"]


def test_no_result_is_no_data() -> None:
    assert judge(REDIS, Evidence()).verdict == NO_DATA


@pytest.mark.parametrize(
    ("count", "errors", "verdict"),
    [(99, 1, FAIL), (999, 1, PASS), (100, 0, PASS), (0, 3, FAIL)],
)
def test_error_ratio_bounds(count: int, errors: int, verdict: Verdict) -> None:
    got = judge(TierSlo(error_ratio=0.01), Evidence(result=TierResult(count=count, errors=errors)))
    assert got.verdict == verdict


def test_the_worst_bound_decides_a_tier() -> None:
    slo = TierSlo(p50_ms=5, p99_ms=10)
    got = judge(slo, Evidence(result=TierResult(count=1000, errors=0), estimates={
        50.0: est(2.0, 1.9, 2.1, 50.0), 99.0: est(12.0, 11.0, 13.0)}))
    assert (got.verdict, got.percentile) == (FAIL, 99.0)


@pytest.mark.parametrize(
    ("value", "bound", "holds"),
    [(0.02, 1.0, True), (0.8, 1.0, True), (0.9, 1.0, None), (1.0, 1.0, False), (None, 1.0, None)],
)
def test_store_holds_with_room(value: float | None, bound: float, holds: bool | None) -> None:
    assert store_holds(value, bound) is holds


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], NO_DATA),
        ([NO_DATA, NO_DATA], NO_DATA),
        ([PASS], PASS),
        ([NO_DATA, PASS], INC),  # something not judged: not "every SLO held"
        ([PASS, INC], INC),
        ([PASS, FAIL, NO_DATA, INC], FAIL),
        ([FAIL], FAIL),
    ],
)
def test_overall(verdicts: list[Verdict], expected: Verdict) -> None:
    assert overall(verdicts) == expected
    assert overall(iter(verdicts)) == expected
