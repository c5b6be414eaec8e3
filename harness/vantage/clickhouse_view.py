"""ClickHouse's own durations for the window's queries, from system.query_log.

Every query ClickHouse finishes is logged with ``query_duration_ms``: the
server's time from parse to last byte sent, in whole milliseconds (truncated,
so 0 means "under 1 ms"). Rows reach the table on a flush interval;
``SYSTEM FLUSH LOGS`` (present in 18.16 and 24.8 alike) writes them out
before each read.

``event_time`` has whole seconds only (18.16 has no finer column), so a
window reads from the second it began in to the second it ended in, minus
the queries already logged in its first second when it began: those belong
to the window before, and two consecutive windows then share no query.

Query logging must be on: the real image (24.8) logs by default; the local
and offline 18.16 servers get ``log_queries`` from our users.xml
(compose/offline/clickhouse-users.xml) and a ``<query_log>`` table from their
config.
"""

from __future__ import annotations

import json
import math
import time
import uuid

from harness.vantage.http_reader import HttpReader
from harness.vantage.reading import Reading
from harness.vantage.views import ServerView, VantageError

SOURCE = "clickhouse system.query_log (finished queries on events; whole ms, truncated)"
# Our own queries carry this query_id prefix, so the view never counts itself.
QUERY_ID_PREFIX = "flowforge-vantage-"
PERCENTILE_FIELDS = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms")

# The tier's finished queries between two seconds (both included). type is
# 2 in 18.16 (a UInt8) and 'QueryFinish' in 24.8 (an Enum8); toString gives
# one of the two on either. The FROM-events match keeps the tier's own
# queries (backend and probes) and leaves DDL, the seed and system queries out.
_TIER_ROWS = r"""FROM system.query_log
WHERE event_date >= toDate(toDateTime({start_s})) AND event_date <= toDate(toDateTime({end_s}))
  AND event_time >= toDateTime({start_s}) AND event_time <= toDateTime({end_s})
  AND toString(type) IN ('2', 'QueryFinish')
  AND match(query, '(?i)\\bFROM\\s+events\\b')
  AND query_id NOT LIKE '{prefix}%'"""

# quantilesExact: a window holds at most a few thousand queries, so exact costs nothing.
_WINDOW_SQL = """
SELECT count() AS queries,
       quantilesExact(0.5, 0.9, 0.95, 0.99, 0.999)(query_duration_ms) AS quantiles_ms,
       max(query_duration_ms) AS max_ms,
       sum(query_duration_ms) AS sum_ms
{rows}{excluded}
FORMAT JSON
"""


def _tier_rows(start_s: int, end_s: int) -> str:
    return _TIER_ROWS.format(start_s=int(start_s), end_s=int(end_s), prefix=QUERY_ID_PREFIX)


def logged_before_sql(start_s: int) -> str:
    """The query_ids already logged in the window's first second when it began."""
    return f"SELECT query_id\n{_tier_rows(start_s, start_s)}\nFORMAT TabSeparated\n"


def window_sql(start_s: int, end_s: int, logged_before: frozenset[str] = frozenset()) -> str:
    excluded = ""
    if logged_before:
        quoted = ", ".join(_quote(query_id) for query_id in sorted(logged_before))
        excluded = f"\n  AND query_id NOT IN ({quoted})"
    return _WINDOW_SQL.format(rows=_tier_rows(start_s, end_s), excluded=excluded)


def parse_window(body: str) -> ServerView:
    """The view from the JSON answer to ``window_sql``."""
    try:
        row = json.loads(body)["data"][0]
        queries = int(row["queries"])
        quantiles = [float(value) for value in row["quantiles_ms"]]
        max_ms, sum_ms = float(row["max_ms"]), float(row["sum_ms"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise VantageError(f"clickhouse: unreadable system.query_log answer ({exc!r})") from exc
    if queries == 0:
        return ServerView(source=SOURCE, count=0)
    if len(quantiles) != len(PERCENTILE_FIELDS):
        raise VantageError(f"clickhouse: expected {len(PERCENTILE_FIELDS)} quantiles, got {quantiles}")
    return ServerView(source=SOURCE, count=queries, max_ms=max_ms, mean_ms=sum_ms / queries,
                      **dict(zip(PERCENTILE_FIELDS, quantiles, strict=True)))


def _quote(text: str) -> str:
    # A query_id is the client's if it sent one (else a UUID ClickHouse made); quote it as a string literal.
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class ClickHouseView:
    name = "clickhouse"

    def __init__(self, url: str, timeout_s: float) -> None:
        self._http = HttpReader(url, "clickhouse", timeout_s)
        self._logging_checked = False
        self._start_s: int | None = None
        self._logged_before: frozenset[str] = frozenset()

    def start(self) -> None:
        self._start_s = None
        # This machine's clock stands in for the server's: both are on this
        # host (loopback, or containers on its kernel).
        start_s = math.floor(time.time())
        if not self._logging_checked:
            self._check_logging()
        self._query("SYSTEM FLUSH LOGS", "SYSTEM FLUSH LOGS")
        ids = self._query("reading system.query_log", logged_before_sql(start_s))
        self._logged_before = frozenset(ids.splitlines())
        self._start_s = start_s

    def end(self) -> Reading:
        if self._start_s is None:
            raise VantageError("clickhouse: window ended before it started")
        end_s = math.floor(time.time())
        problems = []
        try:
            self._query("SYSTEM FLUSH LOGS", "SYSTEM FLUSH LOGS")
        except VantageError as exc:
            problems.append(f"{exc}; the window's last queries may be missing from system.query_log")
        answer = self._query("reading system.query_log", window_sql(self._start_s, end_s, self._logged_before),
                             output_format_json_quote_64bit_integers="0")
        return Reading(views={"clickhouse": parse_window(answer)}, problems=problems)

    def close(self) -> None:
        self._http.close()

    def _check_logging(self) -> None:
        """Once: with logging off the view would read an empty log as "no queries".

        The session's setting is the default user's, which the backend uses too.
        """
        log_queries = self._query("reading log_queries", "SELECT value FROM system.settings WHERE name = 'log_queries'")
        if log_queries.strip() != "1":
            raise VantageError("clickhouse: log_queries is off for the default user, so system.query_log "
                               "has no queries to read")
        self._logging_checked = True

    def _query(self, what: str, sql: str, **settings: str) -> str:
        return self._http.post(what, "/", sql, {"query_id": f"{QUERY_ID_PREFIX}{uuid.uuid4().hex}", **settings})
