"""harness.metrics.buckets: HDR counts land in Prometheus buckets exactly, on the side HDR's percentiles say."""

from __future__ import annotations

import math
import random

import pytest

from harness.histogram import new_histogram, record_ms
from harness.metrics.buckets import DEFAULT_BOUNDS_S, CumulativeBuckets, bounds_with, format_bound


def _histogram(samples_ms: list[float]):
    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return histogram


def _counts(buckets: CumulativeBuckets) -> dict[float, int]:
    return dict(buckets.cumulative())


@pytest.mark.parametrize(("samples_ms", "bound_s", "at_or_below"), [
    # Below 2.048 ms HDR keeps every microsecond: the edges are exact.
    ([0.099, 0.100, 0.101], 0.0001, 2),
    ([0.999, 1.000, 1.001], 0.001, 2),
    ([0.749, 0.750, 0.751], 0.00075, 2),
    # 5 ms: HDR's ranges there are 4 µs wide; 4.999 ms is in [4.996, 4.999], 5.003 ms in [5.000, 5.003],
    # whose highest value (what a percentile reports) is above the bound.
    ([4.999, 5.003], 0.005, 1),
    ([499.0, 500.9], 0.5, 1),
], ids=["100us", "1ms", "750us", "5ms", "500ms"])
def test_samples_fall_on_the_side_of_an_edge_that_percentiles_report(
        samples_ms: list[float], bound_s: float, at_or_below: int) -> None:
    buckets = CumulativeBuckets(DEFAULT_BOUNDS_S)
    buckets.add(_histogram(samples_ms))
    assert _counts(buckets)[bound_s] == at_or_below
    assert buckets.cumulative()[-1] == (math.inf, len(samples_ms))


def test_every_bucket_agrees_with_hdr_percentiles_on_a_spread_of_values() -> None:
    rng = random.Random(7)
    samples = [rng.choice([rng.uniform(0.02, 2), rng.uniform(2, 80), rng.lognormvariate(5, 1.5)])
               for _ in range(5000)]
    histogram = _histogram(samples)
    buckets = CumulativeBuckets(bounds_with([0.0042, 0.333]))
    buckets.add(histogram)
    n = histogram.get_total_count()
    for bound_s, at_or_below in buckets.cumulative()[:-1]:
        # The rank-th value is at or below the bound exactly when the bucket holds at least rank samples.
        for rank in (1, at_or_below, at_or_below + 1, n):
            if not 1 <= rank <= n:
                continue
            value_us = histogram.get_value_at_percentile(100.0 * rank / n)
            assert (value_us <= bound_s * 1e6) == (at_or_below >= rank), (bound_s, rank, value_us)


def test_snapshots_add_up_to_the_histogram_of_all_their_samples() -> None:
    rng = random.Random(3)
    parts = [[rng.lognormvariate(0, 2) for _ in range(n)] for n in (1000, 1, 250)]
    separately = CumulativeBuckets(DEFAULT_BOUNDS_S)
    for part in parts:
        separately.add(_histogram(part))
    at_once = CumulativeBuckets(DEFAULT_BOUNDS_S)
    at_once.add(_histogram([v for part in parts for v in part]))
    assert separately.cumulative() == at_once.cumulative()
    assert separately.count == 1251
    assert separately.sum_s == pytest.approx(at_once.sum_s)
    # The sum uses HDR's equivalent ranges: within their 0.1 % of the true sum.
    assert separately.sum_s == pytest.approx(sum(v for part in parts for v in part) / 1000.0, rel=1e-3)


def test_cumulative_counts_never_decrease_and_end_at_inf() -> None:
    buckets = CumulativeBuckets(DEFAULT_BOUNDS_S)
    buckets.add(_histogram([0.3, 7, 90, 90, 20_000]))  # 20 s: beyond the last bound
    rows = buckets.cumulative()
    assert [count for _, count in rows] == sorted(count for _, count in rows)
    assert rows[-2] == (10.0, 4) and rows[-1] == (math.inf, 5)


def test_the_slos_bounds_become_bucket_edges() -> None:
    bounds = bounds_with([0.001, 0.0042, 0.5], base_s=(0.001, 0.01))
    assert bounds == (0.001, 0.0042, 0.01, 0.5)
    assert format_bound(0.0042) == "0.0042" and format_bound(math.inf) == "+Inf"
