"""ClickHouse over its HTTP interface: event history and preview aggregates.

The local ClickHouse is Debian's 18.16, so the SQL sticks to old, plain
features. 18.16's HTTP interface has no bound query parameters (those came
in 19.x); the only values spliced into SQL are ints the routes already parsed.
"""

from __future__ import annotations

import json
from typing import TypeVar

import httpx
from pydantic import BaseModel

from ..models import HistoryMinute, PreviewMinute, PreviewWidget
from ..tiers import StoreError, Tier
from .timed_call import CallObserver, timed_call

_ERRORS = (httpx.HTTPError,)

M = TypeVar("M", bound=BaseModel)

# Send UInt64 results (count(), uniq()) as JSON numbers instead of strings.
_JSON_SETTINGS = {"output_format_json_quote_64bit_integers": "0"}

_HISTORY_SQL = """
SELECT toUnixTimestamp(toStartOfMinute(ts)) AS minute_ts, count() AS events, avg(value) AS avg_value
FROM events
WHERE widget_id = {widget_id} AND ts >= now() - INTERVAL {minutes} MINUTE
GROUP BY minute_ts ORDER BY minute_ts
FORMAT JSON
"""

_PREVIEW_SERIES_SQL = """
SELECT toUnixTimestamp(toStartOfMinute(ts)) AS minute_ts, count() AS events, avg(value) AS avg_value,
       quantile(0.5)(value) AS p50_value, quantile(0.95)(value) AS p95_value,
       quantile(0.99)(value) AS p99_value, uniq(user_id) AS users
FROM events
WHERE ts >= now() - INTERVAL {minutes} MINUTE
GROUP BY minute_ts ORDER BY minute_ts
FORMAT JSON
"""

_PREVIEW_BY_WIDGET_SQL = """
SELECT widget_id, count() AS events, avg(value) AS avg_value, min(value) AS min_value,
       max(value) AS max_value, quantile(0.5)(value) AS p50_value,
       quantile(0.95)(value) AS p95_value, quantile(0.99)(value) AS p99_value,
       uniq(user_id) AS users
FROM events
WHERE ts >= now() - INTERVAL {minutes} MINUTE
GROUP BY widget_id ORDER BY widget_id
FORMAT JSON
"""


class ClickHouseStore:
    def __init__(self, url: str, observer: CallObserver, timeout_s: float) -> None:
        self._observer = observer
        self._timeout_s = timeout_s
        # ClickHouse closes idle keep-alive connections after 3 s by default;
        # expiring ours first avoids sending a query down a socket it just closed.
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20, keepalive_expiry=2.0)
        self._client = httpx.AsyncClient(base_url=url, timeout=timeout_s, limits=limits)

    async def widget_history(self, widget_id: int, minutes: int = 60) -> list[HistoryMinute]:
        sql = _HISTORY_SQL.format(widget_id=int(widget_id), minutes=int(minutes))
        return await self._select("history", sql, HistoryMinute)

    async def preview_series(self, minutes: int) -> list[PreviewMinute]:
        return await self._select("preview_series", _PREVIEW_SERIES_SQL.format(minutes=int(minutes)), PreviewMinute)

    async def preview_by_widget(self, minutes: int) -> list[PreviewWidget]:
        sql = _PREVIEW_BY_WIDGET_SQL.format(minutes=int(minutes))
        return await self._select("preview_by_widget", sql, PreviewWidget)

    async def execute(self, op: str, sql: str) -> str:
        """Run a statement (DDL, INSERT ... SELECT, or a TabSeparated query); returns the body."""
        return (await self._post(op, sql, self._timeout_s, {})).decode().strip()

    async def ping(self, timeout_s: float) -> None:
        await self._post("ping", "SELECT 1", timeout_s, {})

    async def close(self) -> None:
        await self._client.aclose()

    async def _select(self, op: str, sql: str, model: type[M]) -> list[M]:
        body = await self._post(op, sql, self._timeout_s, _JSON_SETTINGS)
        try:
            rows = json.loads(body)["data"]
            return [model.model_validate(row) for row in rows]
        except (ValueError, KeyError, TypeError) as exc:
            self._observer.count_error(Tier.CLICKHOUSE)
            raise StoreError(Tier.CLICKHOUSE, f"{op} returned an unreadable answer: {exc}") from exc

    async def _post(self, op: str, sql: str, timeout_s: float, params: dict[str, str]) -> bytes:
        async with timed_call(self._observer, Tier.CLICKHOUSE, op, timeout_s, _ERRORS):
            # A non-streaming post reads the whole body before returning, so
            # the timing includes the transfer a bandwidth toxic slows down.
            response = await self._client.post("/", params=params, content=sql.encode(), timeout=timeout_s)
            body = response.content
            if response.status_code != 200:
                first_line = body.decode(errors="replace").strip().splitlines()[:1]
                raise StoreError(
                    Tier.CLICKHOUSE, f"{op} got HTTP {response.status_code}: {' '.join(first_line)[:300]}"
                )
        return body
