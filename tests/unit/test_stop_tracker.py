"""harness.stop_tracker: when a stop condition has held long enough, timed by the snapshots' own edges."""

from __future__ import annotations

import pytest

from harness.slo import TierResult
from harness.stop_conditions import StopCondition
from harness.stop_tracker import StopTracker, measure_of

HTTP_HALF = StopCondition(tier="http", error_ratio_above=0.5, for_s=5)
CH_P95 = StopCondition(tier="clickhouse", p95_ms_above=3000, for_s=10)
HTTP_TEN = StopCondition(tier="http", error_ratio_above=0.5, for_s=10)
REDIS_NOW = StopCondition(tier="redis", p99_ms_above=1)  # for_s 0: the first snapshot past the limit


def errors(ratio: float, attempts: int = 100) -> dict[str, TierResult]:
    failed = round(ratio * attempts)
    return {"http": TierResult(count=attempts - failed, errors=failed, p50_ms=5, p95_ms=9, p99_ms=12)}


def p95(ms: float | None) -> dict[str, TierResult]:
    if ms is None:
        return {"clickhouse": TierResult(count=0, errors=0)}
    return {"clickhouse": TierResult(count=50, errors=0, p50_ms=ms / 2, p95_ms=ms, p99_ms=ms)}


def p99_redis(ms: float) -> dict[str, TierResult]:
    return {"redis": TierResult(count=500, errors=0, p99_ms=ms)}


# (conditions, snapshots as (start, end, results), index of the snapshot that fires or None, expected fields)
CASES = [
    pytest.param([HTTP_HALF], [(0, 2.5, errors(0.9)), (2.5, 5, errors(0.9))], 1,
                 {"condition": "stop_when.0", "since": 0, "at": 5, "held_s": 5.0}, id="held-exactly-for_s"),
    pytest.param([HTTP_HALF], [(0, 2.5, errors(0.9)), (2.5, 4.9, errors(0.9)), (4.9, 7, errors(0.9))], 2,
                 {"since": 0, "at": 7, "held_s": 7.0}, id="fires-on-the-first-snapshot-past-for_s"),
    pytest.param([HTTP_HALF], [(0, 2.5, errors(0.9)), (2.5, 5, errors(0.5)), (5, 7.5, errors(0.9)),
                               (7.5, 9.9, errors(0.9))], None, {}, id="exactly-at-the-limit-is-not-above"),
    pytest.param([HTTP_HALF], [(0, 2.5, errors(0.9)), (2.5, 5, errors(0.1)), (5, 7.5, errors(0.9)),
                               (7.5, 10, errors(0.9)), (10, 12.5, errors(0.9))], 3,
                 {"since": 5, "at": 10, "held_s": 5.0}, id="a-break-restarts-the-clock"),
    pytest.param([HTTP_HALF], [(0, 2.5, errors(0.9)), (2.5, 5, {}), (5, 7.5, errors(0.9))], None, {},
                 id="a-snapshot-without-the-tier-breaks-it"),
    pytest.param([HTTP_HALF], [(0, 2.5, errors(0.9, attempts=0)), (2.5, 5, errors(0.9))], None, {},
                 id="no-calls-is-no-evidence"),
    pytest.param([CH_P95], [(0, 5, p95(3500)), (5, 10, p95(None)), (10, 15, p95(3500)), (15, 19, p95(4000))], None,
                 {}, id="percentile-needs-samples"),
    pytest.param([CH_P95], [(0, 5, p95(3500)), (5, 10, p95(3100))], 1,
                 {"condition": "stop_when.0", "values": [3500, 3100], "shown_values": ["3500 ms", "3100 ms"]},
                 id="percentile-held"),
    pytest.param([REDIS_NOW], [(0, 5, p99_redis(0.8)), (5, 10, p99_redis(1.2))], 1,
                 {"since": 5, "at": 10, "held_s": 5.0}, id="for_s-0-fires-at-once"),
    pytest.param([CH_P95, HTTP_TEN], [(0, 5, {**p95(3500), **errors(0.9)}), (5, 10, {**p95(3500), **errors(0.9)})], 1,
                 {"condition": "stop_when.0"}, id="two-at-once-the-first-written-wins"),
    pytest.param([CH_P95, HTTP_HALF], [(0, 2.5, {**p95(3500), **errors(0.2)}), (2.5, 5, {**p95(3500), **errors(0.9)}),
                                       (5, 7.5, {**p95(100), **errors(0.9)})],
                 2, {"condition": "stop_when.1", "since": 2.5, "shown_values": ["90.0%", "90.0%"]},
                 id="the-one-that-held-fires"),
]


@pytest.mark.parametrize(("conditions", "snapshots", "fires_at", "expected"), CASES)
def test_stop_tracker(conditions: list[StopCondition], snapshots: list[tuple[float, float, dict[str, TierResult]]],
                      fires_at: int | None, expected: dict[str, object]) -> None:
    tracker = StopTracker(conditions)
    fired_at = None
    for position, (start, end, results) in enumerate(snapshots):
        fired = tracker.observe((start, end), results)
        if fired is not None and fired_at is None:
            fired_at = position
    assert fired_at == fires_at
    if fires_at is None:
        assert tracker.fired is None
        return
    fired = tracker.fired
    assert fired is not None
    data = fired.model_dump()
    data["values"] = [reading["value"] for reading in data["values"]]
    for key, value in expected.items():
        assert data[key] == value, key


def test_it_fires_once_and_says_what() -> None:
    tracker = StopTracker([HTTP_HALF])
    tracker.observe((100.0, 102.5), errors(0.6))
    first = tracker.observe((102.5, 105.0), errors(0.8))
    assert first is not None
    assert tracker.observe((105.0, 107.5), errors(1.0)) is None, "a fired tracker says it once"
    assert first.description == "http error ratio above 50% for 5 s"
    assert first.sentence() == "stop_when.0 (http error ratio above 50% for 5 s) fired after 5.0 s; values 60.0%, 80.0%"
    assert [reading.at for reading in first.values] == [102.5, 105.0]


def test_measure_of() -> None:
    assert measure_of(HTTP_HALF, None) is None
    assert measure_of(HTTP_HALF, TierResult(count=0, errors=4)) == 1.0, "all calls failing is a ratio of 1"
    assert measure_of(CH_P95, TierResult(count=0, errors=4)) is None, "no latency without a completed call"
    assert measure_of(CH_P95, TierResult(count=3, errors=0, p95_ms=12.5)) == 12.5
