"""The reference backend's own per-tier histogram, read from its /metrics text.

The backend times every datastore call (``flowforge_datastore_seconds``,
labels tier and op). Two scrapes, at the window's start and end, differenced
bucket by bucket give the window's calls alone; percentiles come from linear
interpolation inside the bucket that holds the rank, as PromQL's
``histogram_quantile`` does, so they match what a Prometheus dashboard of the
same backend would show. Pure functions: the scrape itself is elsewhere.
"""

from __future__ import annotations

import math
from collections import defaultdict

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict

from harness.vantage.views import ServerView, VantageError

FAMILY = "flowforge_datastore_seconds"
SOURCE = f"backend /metrics {FAMILY} (bucket-interpolated)"
PERCENTILE_FIELDS = {"p50_ms": 0.50, "p90_ms": 0.90, "p95_ms": 0.95, "p99_ms": 0.99, "p999_ms": 0.999}


class TierHistogram(BaseModel):
    """One tier's calls, every op summed: cumulative bucket counts by upper bound (seconds)."""

    model_config = ConfigDict(frozen=True)

    # (upper bound in seconds, calls at or below it), ascending; the last bound is +Inf.
    buckets: tuple[tuple[float, float], ...]
    sum_s: float
    # op -> when its series was created (prometheus-client's ``_created``, Unix
    # seconds); a change between scrapes means the backend restarted.
    created_s: dict[str, float] = {}

    @property
    def count(self) -> float:
        return self.buckets[-1][1] if self.buckets else 0.0


def parse_datastore_histograms(text: str) -> dict[str, TierHistogram]:
    """tier -> its histogram, from Prometheus text exposition; other families are ignored."""
    buckets: dict[str, dict[float, float]] = defaultdict(lambda: defaultdict(float))
    sums: dict[str, float] = defaultdict(float)
    created: dict[str, dict[str, float]] = defaultdict(dict)
    try:
        for family in text_string_to_metric_families(text):
            # The text format gives ``_created`` a gauge family of its own.
            if family.name not in (FAMILY, f"{FAMILY}_created"):
                continue
            for sample in family.samples:
                tier = sample.labels["tier"]
                if sample.name == f"{FAMILY}_bucket":
                    buckets[tier][float(sample.labels["le"])] += sample.value
                elif sample.name == f"{FAMILY}_sum":
                    sums[tier] += sample.value
                elif sample.name == f"{FAMILY}_created":
                    created[tier][sample.labels.get("op", "")] = sample.value
    except (ValueError, KeyError, TypeError) as exc:
        raise VantageError(f"backend /metrics: unreadable {FAMILY}: {exc!r}") from exc
    histograms = {}
    for tier, by_bound in buckets.items():
        if math.inf not in by_bound:
            raise VantageError(f"backend /metrics: {FAMILY} for tier {tier} has no +Inf bucket")
        histograms[tier] = TierHistogram(buckets=tuple(sorted(by_bound.items())), sum_s=sums[tier],
                                         created_s=dict(created[tier]))
    return histograms


def difference(start: TierHistogram | None, end: TierHistogram) -> TierHistogram | None:
    """The calls between two scrapes (end − start), or None when the counters were reset.

    ``start`` None means the tier had no series yet at the first scrape
    (prometheus-client creates one on the first call), so everything counted
    at the end happened in the window.
    """
    if start is None:
        return end
    restarted = any(end.created_s.get(op) != when for op, when in start.created_s.items())
    if restarted or [bound for bound, _ in start.buckets] != [bound for bound, _ in end.buckets]:
        return None
    pairs = zip(end.buckets, start.buckets, strict=True)
    counts = tuple((bound, after - before) for (bound, after), (_, before) in pairs)
    sum_s = end.sum_s - start.sum_s
    if sum_s < 0 or any(calls < 0 for _, calls in counts):
        return None
    return TierHistogram(buckets=counts, sum_s=sum_s, created_s=end.created_s)


def histogram_quantile(quantile: float, histogram: TierHistogram) -> float | None:
    """The ``quantile`` (0 < q < 1) in seconds, interpolated as PromQL does; None without calls.

    The rank's bucket is assumed evenly filled between its lower and upper
    bound (the first bucket's lower bound is 0). A rank in the +Inf bucket
    has no upper bound to interpolate to, so, like PromQL, the answer is the
    largest finite bound: "at least this".
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be between 0 and 1, got {quantile}")
    total = histogram.count
    if total <= 0:
        return None
    rank = quantile * total
    below_bound, below_count = 0.0, 0.0
    for bound, cumulative in histogram.buckets:
        if cumulative >= rank:
            if math.isinf(bound):
                return below_bound
            in_bucket = cumulative - below_count
            return below_bound + (bound - below_bound) * (rank - below_count) / in_bucket
        below_bound, below_count = bound, cumulative
    raise AssertionError("unreachable: the +Inf bucket holds every call, so some bucket reaches any rank")


def view_of(histogram: TierHistogram) -> ServerView:
    """The window's calls of one tier as a ServerView (no max: buckets only bound it)."""
    calls = histogram.count
    if calls <= 0:
        return ServerView(source=SOURCE, count=0)
    percentiles = {field: _ms(histogram_quantile(q, histogram)) for field, q in PERCENTILE_FIELDS.items()}
    return ServerView(source=SOURCE, count=round(calls), mean_ms=histogram.sum_s / calls * 1000, **percentiles)


def window_views(start: dict[str, TierHistogram],
                 end: dict[str, TierHistogram]) -> tuple[dict[str, ServerView], list[str]]:
    """tier -> its view over the window, and a problem for each tier whose counters were reset."""
    views, problems = {}, []
    for tier in sorted(set(start) | set(end)):
        window = difference(start.get(tier), end[tier]) if tier in end else None
        if window is None:
            problems.append(f"backend /metrics: {FAMILY} for tier {tier} went back between the window's "
                            "two scrapes (backend restarted?); cannot say for this window")
        else:
            views[tier] = view_of(window)
    return views, problems


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000
