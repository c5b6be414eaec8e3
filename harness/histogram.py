"""Latency histograms with microsecond resolution that merge exactly.

Locust rounds latencies below 100 ms to whole milliseconds, which cannot show a
1 ms SLO. Every tier therefore records into an HDR histogram of microseconds
(3 significant digits). Histograms travel between processes as HDR's own
compressed base64 encoding, so per-step histograms from several Locust workers
add up to exactly the histogram of all their samples.
"""

from __future__ import annotations

from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 120_000_000  # two minutes: longer than any request timeout we use
SIGNIFICANT_DIGITS = 3

PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


def new_histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


# HDR's bucket layout for our range and precision, for record_ms's own index arithmetic.
_LAYOUT = new_histogram()
_SUB_BUCKET_MASK = _LAYOUT.sub_bucket_mask
_UNIT_MAGNITUDE = _LAYOUT.unit_magnitude
_HALF_MAGNITUDE = _LAYOUT.sub_bucket_half_count_magnitude
_HALF_COUNT = _LAYOUT.sub_bucket_half_count
_BUCKET_SHIFT = _UNIT_MAGNITUDE + _HALF_MAGNITUDE + 1


def record_ms(histogram: HdrHistogram, latency_ms: float) -> None:
    """Record one latency; values beyond the range are clamped, never dropped.

    This runs on the load generator's hot path, once per request (and once
    more for the live view), so it computes HDR's counts index itself with
    ``int.bit_length`` instead of going through hdrh's ``record_value``
    (which spells count-leading-zeros as ``len(bin(v))``): half the cost, the
    same counts (a unit test compares both on a spread of values).
    """
    micros = int(latency_ms * 1000.0 + 0.5)
    if micros < LOWEST_US:
        micros = LOWEST_US
    elif micros > HIGHEST_US:
        micros = HIGHEST_US
    bucket = (micros | _SUB_BUCKET_MASK).bit_length() - _BUCKET_SHIFT
    histogram.counts[((bucket + 1) << _HALF_MAGNITUDE) + (micros >> (bucket + _UNIT_MAGNITUDE)) - _HALF_COUNT] += 1
    histogram.total_count += 1
    if micros < histogram.min_value:
        histogram.min_value = micros
    if micros > histogram.max_value:
        histogram.max_value = micros


def encode(histogram: HdrHistogram) -> str:
    return histogram.encode().decode("ascii")


def decode(encoded: str) -> HdrHistogram:
    return HdrHistogram.decode(encoded.encode("ascii"))


def merge(encoded: list[str]) -> HdrHistogram:
    merged = new_histogram()
    for item in encoded:
        merged.add(decode(item))
    return merged


@dataclass(frozen=True)
class LatencySummary:
    """Percentiles of one histogram, in milliseconds."""

    count: int
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    p999_ms: float | None
    max_ms: float | None
    mean_ms: float | None


def summarize(histogram: HdrHistogram) -> LatencySummary:
    count = histogram.get_total_count()
    if count == 0:
        return LatencySummary(0, None, None, None, None, None, None, None)

    def ms(micros: float) -> float:
        return round(micros / 1000.0, 3)

    p = {q: ms(histogram.get_value_at_percentile(q)) for q in PERCENTILES}
    return LatencySummary(
        count=count,
        p50_ms=p[50.0],
        p90_ms=p[90.0],
        p95_ms=p[95.0],
        p99_ms=p[99.0],
        p999_ms=p[99.9],
        max_ms=ms(histogram.get_max_value()),
        mean_ms=ms(histogram.get_mean_value()),
    )


def estimate_ms(histogram: HdrHistogram, rank: float) -> float:
    """The value of the ``rank``-th smallest sample (1-based; fractional ranks round half up), in ms."""
    count = histogram.get_total_count()
    rank = min(max(rank, 1.0), float(count))
    # hdrh looks for the first value whose cumulative count reaches int(p/100 · n + 0.5).
    return round(histogram.get_value_at_percentile(100.0 * rank / count) / 1000.0, 3)
