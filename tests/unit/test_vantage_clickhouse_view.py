"""harness.vantage.clickhouse_view: the window's query durations from system.query_log's answer."""

from __future__ import annotations

import pytest

from harness.vantage.clickhouse_view import QUERY_ID_PREFIX, SOURCE, logged_before_sql, parse_window, window_sql
from harness.vantage.views import ServerView, VantageError

# ClickHouse 18.16's FORMAT JSON answer (64-bit integers unquoted), meta and statistics trimmed.
ANSWER = """{
    "meta": [],
    "data": [{"queries": 40, "quantiles_ms": [3, 7, 9, 120, 131], "max_ms": 131, "sum_ms": 600}],
    "rows": 1
}"""
EMPTY = '{"data": [{"queries": 0, "quantiles_ms": [0, 0, 0, 0, 0], "max_ms": 0, "sum_ms": 0}]}'
# Left to default, 64-bit integers come quoted; still readable.
QUOTED = '{"data": [{"queries": "2", "quantiles_ms": ["1", "1", "1", "2", "2"], "max_ms": "2", "sum_ms": "3"}]}'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (ANSWER, ServerView(source=SOURCE, count=40, p50_ms=3, p90_ms=7, p95_ms=9, p99_ms=120, p999_ms=131,
                            max_ms=131, mean_ms=15)),
        # no query in the window: nothing to say, not "0 ms"
        (EMPTY, ServerView(source=SOURCE, count=0)),
        (QUOTED, ServerView(source=SOURCE, count=2, p50_ms=1, p90_ms=1, p95_ms=1, p99_ms=2, p999_ms=2, max_ms=2,
                            mean_ms=1.5)),
    ],
)
def test_parse_window(body: str, expected: ServerView) -> None:
    assert parse_window(body) == expected


@pytest.mark.parametrize("body", [
    "Code: 60, e.displayText() = DB::Exception: Table system.query_log doesn't exist.",
    '{"data": []}',
    '{"data": [{"queries": 2, "quantiles_ms": [1, 2], "max_ms": 2, "sum_ms": 3}]}',
])
def test_unreadable_answers_are_errors_naming_clickhouse(body: str) -> None:
    with pytest.raises(VantageError, match="^clickhouse: "):
        parse_window(body)


def test_window_sql_reads_whole_seconds_and_leaves_its_own_queries_out() -> None:
    sql = window_sql(1_790_000_000, 1_790_000_010)
    assert "event_time >= toDateTime(1790000000) AND event_time <= toDateTime(1790000010)" in sql
    assert f"query_id NOT LIKE '{QUERY_ID_PREFIX}%'" in sql
    assert "NOT IN" not in sql
    assert "FROM system.query_log" in sql and sql.rstrip().endswith("FORMAT JSON")


def test_window_sql_leaves_out_what_the_first_second_had_logged_before_the_window() -> None:
    sql = window_sql(1_790_000_000, 1_790_000_010, frozenset({"b-2", "a'1\\"}))
    assert "AND query_id NOT IN ('a\\'1\\\\', 'b-2')" in sql


def test_logged_before_reads_the_first_second_only() -> None:
    sql = logged_before_sql(1_790_000_000)
    assert sql.startswith("SELECT query_id\nFROM system.query_log")
    assert "event_time >= toDateTime(1790000000) AND event_time <= toDateTime(1790000000)" in sql
    assert sql.rstrip().endswith("FORMAT TabSeparated")
