"""harness.histogram: microsecond HDR histograms that survive encoding and merge exactly."""

from __future__ import annotations

import random

import pytest

from harness.histogram import (
    HIGHEST_US,
    LOWEST_US,
    PERCENTILES,
    LatencySummary,
    decode,
    encode,
    merge,
    new_histogram,
    record_ms,
    summarize,
)


def _histogram(samples_ms: list[float]):
    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return histogram


def _random_samples(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    # sub-ms datastore replies, tens of ms, and a long tail in seconds
    return [rng.choice([rng.uniform(0.05, 2), rng.uniform(2, 80), rng.lognormvariate(5, 1.5)]) for _ in range(n)]


def test_encode_decode_round_trip() -> None:
    original = _histogram(_random_samples(1, 2000))
    encoded = encode(original)
    assert isinstance(encoded, str) and encoded.isascii()
    copy = decode(encoded)
    assert summarize(copy) == summarize(original)
    assert copy.get_min_value() == original.get_min_value()


def test_merging_encoded_histograms_equals_one_histogram_of_all_samples() -> None:
    parts = [_random_samples(seed, n) for seed, n in [(1, 3000), (2, 10), (3, 1500), (4, 1)]]
    everything = _histogram([value for part in parts for value in part])
    merged = merge([encode(_histogram(part)) for part in parts])

    assert merged.get_total_count() == everything.get_total_count() == sum(map(len, parts))
    for percentile in (*PERCENTILES, 0.0, 25.0, 75.0, 99.99, 100.0):
        assert merged.get_value_at_percentile(percentile) == everything.get_value_at_percentile(percentile)
    assert merged.get_min_value() == everything.get_min_value()
    assert merged.get_max_value() == everything.get_max_value()
    assert summarize(merged) == summarize(everything)
    # bucket by bucket, not only at the percentiles
    for value in {int(round(v * 1000)) for part in parts for v in part}:
        assert merged.get_count_at_value(value) == everything.get_count_at_value(value)


def test_merge_of_nothing_is_empty() -> None:
    assert merge([]).get_total_count() == 0


def test_merge_is_order_independent() -> None:
    encoded = [encode(_histogram(_random_samples(seed, 500))) for seed in range(5)]
    assert summarize(merge(encoded)) == summarize(merge(list(reversed(encoded))))


def test_microsecond_resolution_below_one_ms() -> None:
    summary = summarize(_histogram([0.25] * 50 + [0.75] * 50))
    assert summary.count == 100
    assert summary.p50_ms == 0.25
    assert summary.p90_ms == summary.p99_ms == summary.max_ms == 0.75
    assert summary.mean_ms == 0.5


def test_sub_ms_values_stay_distinct_after_merge() -> None:
    merged = merge([encode(_histogram([0.25])), encode(_histogram([0.75]))])
    assert merged.get_count_at_value(250) == 1
    assert merged.get_count_at_value(750) == 1
    assert summarize(merged).p50_ms == 0.25


@pytest.mark.parametrize(
    ("latency_ms", "micros"),
    [(0.001, 1), (0.0004, LOWEST_US), (0, LOWEST_US), (-3, LOWEST_US), (1.0, 1000), (0.9994, 999)],
)
def test_record_rounds_to_microseconds_and_clamps_low(latency_ms: float, micros: int) -> None:
    histogram = _histogram([latency_ms])
    assert histogram.get_count_at_value(micros) == 1
    assert histogram.get_total_count() == 1


def test_values_beyond_the_range_are_clamped_not_dropped() -> None:
    summary = summarize(_histogram([10 * 60 * 1000.0]))  # ten minutes
    assert summary.count == 1
    assert summary.max_ms == pytest.approx(HIGHEST_US / 1000, rel=1e-3)


def test_three_significant_digits_above_the_exact_range() -> None:
    summary = summarize(_histogram([123.456]))
    assert summary.p50_ms == pytest.approx(123.456, rel=1e-3)


def test_summarize_empty_histogram() -> None:
    assert summarize(new_histogram()) == LatencySummary(0, None, None, None, None, None, None, None)


def test_summarize_reports_milliseconds() -> None:
    samples = [float(ms) for ms in range(1, 1001)]  # 1..1000 ms, uniform
    summary = summarize(_histogram(samples))
    assert summary.count == 1000
    assert summary.p50_ms == pytest.approx(500, rel=1e-3)
    assert summary.p90_ms == pytest.approx(900, rel=1e-3)
    assert summary.p95_ms == pytest.approx(950, rel=1e-3)
    assert summary.p99_ms == pytest.approx(990, rel=1e-3)
    assert summary.p999_ms == pytest.approx(999, rel=1e-3)
    assert summary.max_ms == pytest.approx(1000, rel=1e-3)
    assert summary.mean_ms == pytest.approx(500.5, rel=1e-3)


def test_record_ms_counts_exactly_as_hdrh_does() -> None:
    rng = random.Random(3)
    values_ms = [0.0, 0.0004, 0.001, 0.0015, 1.0, 2.047, 2.048, 999.999, 120_000.0, 500_000.0]
    values_ms += [rng.lognormvariate(0, 3) for _ in range(5000)]
    ours, theirs = new_histogram(), new_histogram()
    for value in values_ms:
        record_ms(ours, value)
        theirs.record_value(min(max(int(value * 1000.0 + 0.5), LOWEST_US), HIGHEST_US))
    assert list(ours.counts) == list(theirs.counts)
    assert (ours.total_count, ours.min_value, ours.max_value) == (theirs.total_count, theirs.min_value,
                                                                  theirs.max_value)
    assert encode(ours) == encode(theirs)
