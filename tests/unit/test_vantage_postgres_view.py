"""harness.vantage.postgres_view: pg_stat_statements' sums as a view (mean and max, no percentiles)."""

from __future__ import annotations

import pytest

from harness.vantage.postgres_view import SOURCE, view_of
from harness.vantage.views import ServerView


@pytest.mark.parametrize(
    ("calls", "total_ms", "max_ms", "expected"),
    [
        (40, 2.0, 0.4, ServerView(source=SOURCE, count=40, mean_ms=0.05, max_ms=0.4)),
        # no widget_live read since the reset: no mean, not a mean of 0
        (0, 0.0, None, ServerView(source=SOURCE, count=0)),
    ],
)
def test_view_of(calls: int, total_ms: float, max_ms: float | None, expected: ServerView) -> None:
    assert view_of(calls, total_ms, max_ms) == expected


def test_no_percentiles_so_only_a_max_below_the_bound_says_anything() -> None:
    assert view_of(40, 2.0, 0.4).holds(99, 10.0) is True
    assert view_of(40, 2.0, 25.0).holds(99, 10.0) is None
