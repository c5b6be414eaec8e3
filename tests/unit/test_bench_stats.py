"""harness.bench.stats: the pure reductions behind make bench's numbers."""

from __future__ import annotations

import pytest

from harness.bench.stats import (
    aggregated,
    alternating,
    bucket_percentile,
    counts_between,
    crossing,
    flips,
    largest_passing,
    median,
    ratio,
    stable,
    verdict_table,
)


@pytest.mark.parametrize(("steps", "expected"), [
    ([(500, True), (1000, True), (2000, True)], 2000),
    ([(500, True), (1000, True), (2000, False), (3500, True)], 1000),  # a pass above a failure is luck
    ([(2000, True), (500, True), (1000, False)], 500),  # judged in count order, not measurement order
    ([(500, False), (1000, True)], None),
    ([], None),
])
def test_largest_passing(steps: list[tuple[int, bool]], expected: int | None) -> None:
    assert largest_passing(steps) == expected


@pytest.mark.parametrize(("values", "expected"), [([0.9], 0.9), ([0.95, 0.9, 0.99], 0.95), ([1.0, 0.9], 0.95)])
def test_median(values: list[float], expected: float) -> None:
    assert median(values) == pytest.approx(expected)


def test_median_and_ratio_refuse_nothing() -> None:
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError, match="baseline measured nothing"):
        ratio(9000.0, 0.0)
    assert ratio(9000.0, 10000.0) == pytest.approx(0.9)


def test_alternating_runs_abba() -> None:
    assert alternating(2) == [(0, "plain"), (0, "recorded"), (1, "recorded"), (1, "plain")]
    assert len(alternating(5)) == 10


def test_aggregated_row_of_locust_csv() -> None:
    text = ("Type,Name,Request Count,Failure Count,Median Response Time,Requests/s\n"
            "GET,/static.json,1000,2,1,99.5\n"
            ",Aggregated,1000,2,1,99.5\n")
    totals = aggregated(text)
    assert (totals.requests, totals.failures, totals.rps) == (1000, 2, 99.5)
    with pytest.raises(ValueError, match="Aggregated"):
        aggregated("Type,Name\nGET,/x\n")


def test_counts_between_snapshots() -> None:
    assert counts_between({"lost": 2, "delivery": 10}, {"lost": 2, "delivery": 30, "connect": 1}) == {
        "delivery": 20, "connect": 1}


@pytest.mark.parametrize(("buckets", "percent", "expected"), [
    ({}, 95.0, None),
    ({1: 100}, 95.0, 1.0),
    ({1: 90, 5: 5, 40: 5}, 95.0, 5.0),
    ({1: 90, 5: 5, 40: 5}, 96.0, 40.0),
    ({3: 1, 1: 1}, 50.0, 1.0),  # sorted by value, not by insertion
])
def test_bucket_percentile(buckets: dict[int, int], percent: float, expected: float | None) -> None:
    assert bucket_percentile(buckets, percent) == expected


def test_verdict_table_lines_runs_up_and_marks_gaps() -> None:
    runs = [
        {"redis": {1: "pass", 2: "fail"}, "http": {1: "pass"}},
        {"redis": {1: "pass", 2: "inconclusive"}},
    ]
    table = verdict_table(runs)
    assert table == {
        "http": {"1": ["pass", None]},
        "redis": {"1": ["pass", "pass"], "2": ["fail", "inconclusive"]},
    }
    assert stable(table)


def test_a_flip_between_pass_and_fail_is_unstable() -> None:
    table = verdict_table([{"redis": {5: "pass"}}, {"redis": {5: "no-data"}}, {"redis": {5: "fail"}}])
    assert flips(table) == ["redis step 5"]
    assert not stable(table)


@pytest.mark.parametrize(("points", "expected"), [
    ([(500, 10.0), (1000, 20.0), (2000, 40.0), (3500, 70.0)], 2500.0),
    ([(3500, 70.0), (500, 10.0), (2000, 40.0)], 2500.0),  # sorted by count first
    ([(500, 10.0), (2000, 40.0)], None),  # never reached: no extrapolation
    ([(500, 60.0), (1000, 80.0)], None),  # already past at the first step
    ([(500, 10.0), (1000, 50.0)], 1000.0),
])
def test_crossing(points: list[tuple[int, float]], expected: float | None) -> None:
    assert crossing(points, 50.0) == expected
