"""harness.vantage.prometheus: the backend's per-tier histogram, differenced and interpolated like PromQL."""

from __future__ import annotations

import math

import pytest

from harness.vantage.prometheus import (
    SOURCE,
    TierHistogram,
    difference,
    histogram_quantile,
    parse_datastore_histograms,
    view_of,
    window_views,
)
from harness.vantage.views import VantageError

BOUNDS = ("0.001", "0.002", "0.004", "+Inf")
HEADER = """\
# HELP flowforge_datastore_seconds Duration of one datastore call, as the backend saw it.
# TYPE flowforge_datastore_seconds histogram
"""
# Another histogram family of the same backend, which the parser must leave alone.
OTHER_FAMILY = """\
# HELP flowforge_http_request_seconds HTTP request duration by route template.
# TYPE flowforge_http_request_seconds histogram
flowforge_http_request_seconds_bucket{le="0.001",route="/api/widgets/{id}"} 7.0
flowforge_http_request_seconds_bucket{le="+Inf",route="/api/widgets/{id}"} 9.0
flowforge_http_request_seconds_count{route="/api/widgets/{id}"} 9.0
flowforge_http_request_seconds_sum{route="/api/widgets/{id}"} 0.02
"""


def series(tier: str, op: str, cumulative: tuple[int, ...], sum_s: float, created: float = 1.7e9) -> tuple[str, str]:
    """One (tier, op) child as prometheus-client writes it: its histogram lines, its ``_created`` line."""
    labels = f'op="{op}",tier="{tier}"'
    lines = [f'flowforge_datastore_seconds_bucket{{le="{le}",{labels}}} {count}.0'
             for le, count in zip(BOUNDS, cumulative, strict=True)]
    lines += [f"flowforge_datastore_seconds_count{{{labels}}} {cumulative[-1]}.0",
              f"flowforge_datastore_seconds_sum{{{labels}}} {sum_s}"]
    return "\n".join(lines) + "\n", f"flowforge_datastore_seconds_created{{{labels}}} {created}\n"


def exposition(*children: tuple[str, str]) -> str:
    """The family as the text format has it: all children, then ``_created`` as a gauge family of its own."""
    return (HEADER + "".join(lines for lines, _ in children)
            + "# HELP flowforge_datastore_seconds_created Duration of one datastore call, as the backend saw it.\n"
            + "# TYPE flowforge_datastore_seconds_created gauge\n"
            + "".join(created for _, created in children) + OTHER_FAMILY)


def histogram(*cumulative: float, sum_s: float = 0.0) -> TierHistogram:
    bounds = (0.001, 0.002, 0.004, math.inf)
    return TierHistogram(buckets=tuple(zip(bounds, cumulative, strict=True)), sum_s=sum_s)


def test_parse_sums_each_tiers_ops_and_ignores_other_families() -> None:
    text = exposition(series("redis", "get_widget", (5, 8, 9, 9), 0.01), series("redis", "ping", (1, 1, 2, 3), 0.5),
                      series("clickhouse", "history", (0, 0, 1, 4), 2.0))
    parsed = parse_datastore_histograms(text)
    assert set(parsed) == {"redis", "clickhouse"}
    assert parsed["redis"].buckets == ((0.001, 6.0), (0.002, 9.0), (0.004, 11.0), (math.inf, 12.0))
    assert parsed["redis"].sum_s == pytest.approx(0.51)
    assert parsed["redis"].count == 12
    assert parsed["redis"].created_s == {"get_widget": 1.7e9, "ping": 1.7e9}


def test_parse_before_any_call_has_no_tiers() -> None:
    assert parse_datastore_histograms(OTHER_FAMILY) == {}


@pytest.mark.parametrize("text", [
    HEADER + 'flowforge_datastore_seconds_bucket{le="0.001",op="x"} 1.0\n',  # no tier label
    HEADER + 'flowforge_datastore_seconds_bucket{le="0.001",op="x",tier="redis"} 1.0\n',  # no +Inf bucket
    HEADER + "flowforge_datastore_seconds_bucket{le= 1.0\n",  # not exposition text
])
def test_parse_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(VantageError, match="backend /metrics"):
        parse_datastore_histograms(text)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # end − start, bucket by bucket
        (histogram(10, 20, 30, 31, sum_s=1.0), histogram(70, 110, 130, 131, sum_s=1.25),
         histogram(60, 90, 100, 100, sum_s=0.25)),
        # no series at the first scrape: every call counted at the end is the window's
        (None, histogram(1, 2, 3, 4, sum_s=0.1), histogram(1, 2, 3, 4, sum_s=0.1)),
        # a count going back is a reset (a restarted backend): cannot say
        (histogram(10, 20, 30, 31, sum_s=1.0), histogram(1, 2, 3, 3, sum_s=0.1), None),
    ],
)
def test_difference(start: TierHistogram | None, end: TierHistogram, expected: TierHistogram | None) -> None:
    assert difference(start, end) == expected


def test_a_new_created_time_is_a_reset_even_when_counts_grew() -> None:
    start = parse_datastore_histograms(exposition(series("redis", "get_widget", (1, 1, 1, 1), 0.001, created=100.0)))
    end = parse_datastore_histograms(exposition(series("redis", "get_widget", (9, 9, 9, 9), 0.009, created=200.0)))
    assert difference(start["redis"], end["redis"]) is None


# Known buckets: 60 calls ≤ 1 ms, 30 in (1, 2] ms, 10 in (2, 4] ms, none above.
WINDOW = histogram(60, 90, 100, 100, sum_s=0.12)
# Half the calls above the last finite bound.
TAIL = histogram(0, 0, 5, 10)


@pytest.mark.parametrize(
    ("quantile", "window", "expected_s"),
    [
        (0.5, WINDOW, 0.001 * 50 / 60),  # first bucket: from 0 to its bound
        (0.6, WINDOW, 0.001),  # rank on a bucket's upper edge
        (0.9, WINDOW, 0.002),
        (0.95, WINDOW, 0.002 + 0.002 * 5 / 10),
        (0.99, WINDOW, 0.002 + 0.002 * 9 / 10),
        (0.5, TAIL, 0.004),
        (0.99, TAIL, 0.004),  # in +Inf: the largest finite bound, as PromQL answers
        (0.99, histogram(0, 0, 0, 0), None),  # no calls
    ],
)
def test_histogram_quantile(quantile: float, window: TierHistogram, expected_s: float | None) -> None:
    assert histogram_quantile(quantile, window) == pytest.approx(expected_s)


def test_view_of_a_window() -> None:
    view = view_of(WINDOW)
    assert view.source == SOURCE
    assert view.count == 100
    assert view.mean_ms == pytest.approx(1.2)
    assert (view.p50_ms, view.p90_ms, view.p95_ms, view.p99_ms) == pytest.approx((50 / 60, 2.0, 3.0, 3.8))
    assert view.p999_ms == pytest.approx(3.98)
    assert view.max_ms is None  # buckets bound the max, they do not give it
    assert view.holds(99, 4.0) is True and view.holds(99, 3.0) is False


def test_view_of_an_idle_window() -> None:
    assert view_of(histogram(0, 0, 0, 0)).model_dump(exclude={"source"}) == {
        "count": 0, "p50_ms": None, "p90_ms": None, "p95_ms": None, "p99_ms": None, "p999_ms": None,
        "mean_ms": None, "max_ms": None,
    }


def test_window_views_from_two_scrapes() -> None:
    start = parse_datastore_histograms(exposition(series("redis", "get_widget", (10, 10, 10, 10), 0.005),
                                                  series("materialize", "live_value", (0, 1, 2, 2), 0.005)))
    end = parse_datastore_histograms(exposition(series("redis", "get_widget", (70, 100, 110, 110), 0.125),
                                                series("clickhouse", "history", (0, 0, 0, 3), 1.5)))
    views, problems = window_views(start, end)
    assert set(views) == {"redis", "clickhouse"}
    assert views["redis"].count == 100 and views["redis"].mean_ms == pytest.approx(1.2)
    assert views["clickhouse"].count == 3 and views["clickhouse"].p50_ms == pytest.approx(4.0)
    # materialize vanished between the scrapes: the backend restarted, nothing to say for the window
    assert problems == ["backend /metrics: flowforge_datastore_seconds for tier materialize went back between "
                        "the window's two scrapes (backend restarted?); cannot say for this window"]
