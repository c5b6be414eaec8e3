"""harness.slo: verdicts per tier (strict bounds, error ratio, no data) and the trust flag for sample counts."""

from __future__ import annotations

import pytest

from harness.slo import TierResult, Verdict, judge, judge_step, overall, too_few_samples
from harness.spec import TierSlo

PASS, FAIL, NO_DATA = Verdict.PASS, Verdict.FAIL, Verdict.NO_DATA


def _result(count: int = 1000, errors: int = 0, **percentiles: float) -> TierResult:
    return TierResult(count=count, errors=errors, **percentiles)


@pytest.mark.parametrize(
    ("slo", "result", "verdict", "reasons"),
    [
        pytest.param(TierSlo(p99_ms=1), _result(p99_ms=0.999), PASS, [], id="p99-just-under"),
        pytest.param(TierSlo(p99_ms=1), _result(p99_ms=1.0), FAIL, ["p99 1 ms ≥ 1 ms"], id="p99-equal-fails"),
        pytest.param(TierSlo(p99_ms=1), _result(p99_ms=1.4), FAIL, ["p99 1.4 ms ≥ 1 ms"], id="p99-over"),
        pytest.param(TierSlo(p95_ms=500), _result(p95_ms=499.9, p99_ms=900), PASS, [], id="only-bounded-percentile"),
        pytest.param(TierSlo(p95_ms=500), _result(p95_ms=500), FAIL, ["p95 500 ms ≥ 500 ms"], id="p95-equal"),
        pytest.param(TierSlo(p999_ms=20), _result(p999_ms=25), FAIL, ["p99.9 25 ms ≥ 20 ms"], id="p999"),
        pytest.param(
            TierSlo(p50_ms=5, p99_ms=10), _result(p50_ms=6, p99_ms=11), FAIL,
            ["p50 6 ms ≥ 5 ms", "p99 11 ms ≥ 10 ms"], id="every-breached-bound-named",
        ),
        pytest.param(TierSlo(error_ratio=0.01), _result(count=100, errors=0), PASS, [], id="no-errors"),
        pytest.param(TierSlo(error_ratio=0.01), _result(count=1000, errors=9), PASS, [], id="ratio-under"),
        pytest.param(
            TierSlo(error_ratio=0.01), _result(count=99, errors=1), FAIL, ["error ratio 1.00% ≥ 1.00%"],
            id="ratio-equal-fails",
        ),
        pytest.param(
            TierSlo(error_ratio=0.01), _result(count=90, errors=10), FAIL, ["error ratio 10.00% ≥ 1.00%"],
            id="ratio-over",
        ),
        pytest.param(TierSlo(error_ratio=0), _result(count=10, errors=0), PASS, [], id="zero-ratio-no-errors"),
        pytest.param(
            TierSlo(error_ratio=0), _result(count=10, errors=1), FAIL, ["error ratio 9.09% ≥ 0.00%"],
            id="zero-ratio-one-error",
        ),
        pytest.param(
            TierSlo(p99_ms=1), _result(count=0, errors=5), FAIL, ["every one of 5 attempts failed"],
            id="all-errors-latency-slo",
        ),
        pytest.param(
            TierSlo(error_ratio=0.01), _result(count=0, errors=5), FAIL, ["error ratio 100.00% ≥ 1.00%"],
            id="all-errors-ratio-slo",
        ),
        pytest.param(
            TierSlo(p99_ms=1, error_ratio=0.01), _result(count=0, errors=3), FAIL,
            ["every one of 3 attempts failed", "error ratio 100.00% ≥ 1.00%"], id="all-errors-both",
        ),
        pytest.param(
            TierSlo(p99_ms=10, error_ratio=0.5), _result(count=50, errors=50, p99_ms=12), FAIL,
            ["p99 12 ms ≥ 10 ms", "error ratio 50.00% ≥ 50.00%"], id="latency-and-ratio",
        ),
        pytest.param(TierSlo(p99_ms=1), None, NO_DATA, ["no samples in the window"], id="no-result"),
        pytest.param(TierSlo(p99_ms=1), _result(count=0, errors=0), NO_DATA, ["no samples in the window"],
                     id="zero-attempts"),
    ],
)
def test_judge(slo: TierSlo, result: TierResult | None, verdict: Verdict, reasons: list[str]) -> None:
    got = judge(slo, result)
    assert (got.verdict, got.reasons) == (verdict, reasons)


def test_error_ratio_counts_errors_among_all_attempts() -> None:
    result = _result(count=75, errors=25)
    assert result.attempts == 100
    assert result.error_ratio == 0.25
    assert _result(count=0, errors=0).error_ratio == 0.0


def test_judge_step_judges_every_slo_tier() -> None:
    slos = {"redis": TierSlo(p99_ms=1), "http": TierSlo(error_ratio=0.01), "clickhouse": TierSlo(p95_ms=500)}
    results = {"redis": _result(p99_ms=2), "http": _result(count=100), "websocket": _result(p95_ms=1)}
    verdicts = judge_step(slos, results)
    assert {tier: v.verdict for tier, v in verdicts.items()} == {"redis": FAIL, "http": PASS, "clickhouse": NO_DATA}


@pytest.mark.parametrize(
    ("slo", "count", "too_few"),
    [
        (TierSlo(p99_ms=1), 499, True),
        (TierSlo(p99_ms=1), 500, False),
        (TierSlo(p99_ms=1), 1, True),
        (TierSlo(p99_ms=1), 0, False),  # no samples is no-data, not "too few"
        (TierSlo(p95_ms=500), 99, True),
        (TierSlo(p95_ms=500), 100, False),
        (TierSlo(p50_ms=5), 9, True),
        (TierSlo(p50_ms=5), 10, False),
        (TierSlo(p999_ms=5), 4999, True),
        (TierSlo(p50_ms=5, p99_ms=10), 100, True),  # the most demanding percentile decides
        (TierSlo(error_ratio=0.01), 1, False),  # a ratio needs no minimum
    ],
)
def test_too_few_samples(slo: TierSlo, count: int, too_few: bool) -> None:
    assert too_few_samples(slo, _result(count=count)) is too_few


def test_too_few_samples_without_result() -> None:
    assert too_few_samples(TierSlo(p99_ms=1), None) is False


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ([], NO_DATA),
        ([NO_DATA, NO_DATA], NO_DATA),
        ([PASS], PASS),
        ([NO_DATA, PASS], PASS),
        ([PASS, FAIL, NO_DATA], FAIL),
        ([FAIL], FAIL),
    ],
)
def test_overall(verdicts: list[Verdict], expected: Verdict) -> None:
    assert overall(verdicts) == expected
    assert overall(iter(verdicts)) == expected
