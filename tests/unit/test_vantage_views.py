"""harness.vantage.views: what a server's view can and cannot say about a bound."""

from __future__ import annotations

import pytest

from harness.vantage.views import ServerView


@pytest.mark.parametrize(
    ("view", "percentile", "bound_ms", "expected"),
    [
        # the percentile itself decides, strictly below
        (ServerView(source="s", p99_ms=0.4), 99, 1.0, True),
        (ServerView(source="s", p99_ms=1.0), 99, 1.0, False),
        (ServerView(source="s", p99_ms=3.0, max_ms=0.5), 99, 1.0, False),
        (ServerView(source="s", p999_ms=0.9), 99.9, 1.0, True),
        (ServerView(source="s", p90_ms=12.0), 90, 10.0, False),
        # no percentile: a max below the bound proves it, one above proves nothing
        (ServerView(source="s", max_ms=0.8, mean_ms=0.3), 99, 1.0, True),
        (ServerView(source="s", max_ms=4.0, mean_ms=0.3), 99, 1.0, None),
        (ServerView(source="s", mean_ms=0.3), 99, 1.0, None),
        # a percentile this view does not carry
        (ServerView(source="s", p99_ms=0.2), 95, 1.0, None),
        (ServerView(source="s", count=0), 99, 1.0, None),
    ],
)
def test_holds(view: ServerView, percentile: float, bound_ms: float, expected: bool | None) -> None:
    assert view.holds(percentile, bound_ms) is expected


@pytest.mark.parametrize(
    ("percentile", "expected"),
    [(50, 1.0), (90, 2.0), (95, 3.0), (99, 4.0), (99.9, 5.0), (75, None)],
)
def test_percentile_ms(percentile: float, expected: float | None) -> None:
    view = ServerView(source="s", p50_ms=1.0, p90_ms=2.0, p95_ms=3.0, p99_ms=4.0, p999_ms=5.0)
    assert view.percentile_ms(percentile) == expected


def test_views_are_frozen() -> None:
    view = ServerView(source="s", count=1)
    with pytest.raises(ValueError):
        view.count = 2  # type: ignore[misc]
