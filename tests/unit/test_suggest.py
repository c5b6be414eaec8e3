"""harness.suggest: the nearest valid name, table-driven."""

from __future__ import annotations

import pytest

from harness.suggest import did_you_mean, nearest

FIELDS = ["users", "spawn_rate", "step_s", "settle_s"]
SLO_FIELDS = ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "error_ratio"]


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        ("step", FIELDS, ["step_s"]),
        ("setle_s", FIELDS, ["settle_s"]),
        ("Users", FIELDS, ["users"]),  # case does not count
        ("USERS", FIELDS, ["users"]),
        ("colour", FIELDS, []),  # nothing close
        ("rate", ["rate_kbps"], ["rate_kbps"]),
        ("p42_ms", SLO_FIELDS, []),  # four equally near: no guess
        ("p9_ms", ["p90_ms", "p95_ms"], ["p90_ms", "p95_ms"]),  # a tie of two is shown
        ("users", FIELDS, []),  # itself is not a suggestion
        ("x", [], []),
    ],
)
def test_nearest(word: str, candidates: list[str], expected: list[str]) -> None:
    assert nearest(word, candidates) == expected


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        ("clickhose", ["redis", "clickhouse"], "did you mean 'clickhouse'?"),
        ("p9_ms", ["p90_ms", "p95_ms"], "did you mean 'p90_ms' or 'p95_ms'?"),
        ("kafka", ["redis", "clickhouse"], ""),
    ],
)
def test_did_you_mean(word: str, candidates: list[str], expected: str) -> None:
    assert did_you_mean(word, candidates) == expected
