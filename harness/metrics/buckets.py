"""HDR histograms → Prometheus cumulative buckets, exactly (pure).

The load processes record every latency into HDR histograms (µs, 3
significant digits). Prometheus wants, per bucket bound ``le``, how many
samples were at or below it since the start. Each HDR count is placed by the
value HDR reports for it in percentiles (the highest value equivalent to it
at 3 significant digits), so a bucket edge and the harness's own percentile
agree on which side of it a sample lies. Below 2.048 ms HDR is exact to the
microsecond, so every sub-millisecond bound is exact.

Counts are added histogram by histogram, never observed sample by sample:
one snapshot of thousands of samples costs one scan of the HDR counts.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

# Redis's SLO is 1 ms, ClickHouse's 500 ms: sub-millisecond up to 10 s.
DEFAULT_BOUNDS_S = (
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075,
    0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75,
    1.0, 1.5, 2.5, 5.0, 10.0,
)


def bounds_with(extra_s: Iterable[float], base_s: Iterable[float] = DEFAULT_BOUNDS_S) -> tuple[float, ...]:
    """The default bounds plus ``extra_s`` (the SLOs' own bounds: a verdict at a bound falls on an edge)."""
    return tuple(sorted({round(b, 9) for b in (*base_s, *extra_s) if b > 0 and math.isfinite(b)}))


def format_bound(bound_s: float) -> str:
    """``le`` as Prometheus writes it: shortest float text, ``+Inf`` for infinity."""
    return "+Inf" if math.isinf(bound_s) else repr(float(bound_s))


class CumulativeBuckets:
    """One series since the run began: samples per bucket, their count and their sum."""

    def __init__(self, bounds_s: Iterable[float]) -> None:
        self.bounds_s = tuple(bounds_s)
        self._bounds_us = [round(b * 1e6, 6) for b in self.bounds_s]
        # Per bucket, not yet cumulative; the last slot is above every bound (+Inf only).
        self._per_bucket = [0] * (len(self.bounds_s) + 1)
        self.count = 0
        self.sum_s = 0.0

    def add(self, histogram: HdrHistogram) -> None:
        counts = histogram.counts
        for index in range(histogram.counts_len):
            count = counts[index]
            if not count:
                continue
            value = histogram.get_value_from_index(index)
            highest = histogram.get_highest_equivalent_value(value)
            lowest = histogram.get_lowest_equivalent_value(value)
            self._per_bucket[bisect_left(self._bounds_us, highest)] += count
            self.count += count
            # The sum takes the middle of each equivalent range, as HDR's mean does.
            self.sum_s += count * (lowest + (highest - lowest + 1) // 2) / 1e6

    def cumulative(self) -> list[tuple[float, int]]:
        """(bound in seconds, samples at or below it), ascending, ending with (+inf, count)."""
        rows, running = [], 0
        for bound, count in zip((*self.bounds_s, math.inf), self._per_bucket, strict=True):
            running += count
            rows.append((bound, running))
        return rows
