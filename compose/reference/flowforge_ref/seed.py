"""Seed the three stores with widgets, live values and a day of events.

    PYTHONPATH=compose/reference python -m flowforge_ref.seed

Uses the same FF_* variables as the app, pointed at the stores directly (not
through Toxiproxy). Safe to run twice: configs and live rows are rewritten,
events are kept while they are complete and recent. Prints one line per
store; exits 1 naming every store that failed.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time

from .metrics import Metrics
from .models import WidgetConfig
from .settings import Settings, SettingsError
from .stores import ClickHouseStore, MaterializeStore, RedisStore
from .tiers import StoreError

EVENT_ROWS = 1_000_000
EVENT_SPAN_S = 24 * 3600
# Events older than this at the newest row no longer fill the endpoints'
# "last 60 minutes" window, so a rerun refreshes them.
EVENTS_STALE_AFTER_S = 3600
# Seeding does bulk work (a million-row INSERT); give it more than a request gets.
SEED_TIMEOUT_S = 120.0
WIDGET_KINDS = ("line", "bar", "gauge", "table", "stat")
WIDGETS_PER_DASHBOARD = 6

# No PRIMARY KEY: Materialize's CREATE TABLE takes column types, NOT NULL and
# DEFAULT only; a hundred rows need no index on the PostgreSQL stand-in either.
_WIDGET_LIVE_DDL = """
CREATE TABLE IF NOT EXISTS widget_live (
    widget_id int NOT NULL,
    value double precision NOT NULL,
    updated_at timestamptz NOT NULL
)
"""

_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
    ts DateTime,
    widget_id UInt32,
    value Float64,
    user_id UInt32
) ENGINE = MergeTree PARTITION BY toYYYYMMDD(ts) ORDER BY (widget_id, ts)
"""

# Generated server-side from system.numbers: a million rows in well under a
# second, against minutes for client-side batches. The multipliers are primes
# that scatter rows over every second of the span, every widget and 5000 users.
_EVENTS_INSERT = """
INSERT INTO events (ts, widget_id, value, user_id)
SELECT
    toDateTime(now() - (number * 7919) % {span_s}) AS ts,
    toUInt32(number % {widgets} + 1) AS widget_id,
    ((number * 2654435761) % 10000) / 100.0 AS value,
    toUInt32((number * 40503) % 5000) AS user_id
FROM system.numbers
LIMIT {rows}
"""


def widget_configs(widgets: int) -> list[WidgetConfig]:
    return [
        WidgetConfig(
            id=i,
            title=f"Widget {i}",
            kind=WIDGET_KINDS[i % len(WIDGET_KINDS)],
            dashboard_id=(i - 1) // WIDGETS_PER_DASHBOARD + 1,
            refresh_ms=1000,
        )
        for i in range(1, widgets + 1)
    ]


def live_rows(widgets: int) -> list[tuple[int, float]]:
    return [(i, round(50 + 40 * math.sin(i), 3)) for i in range(1, widgets + 1)]


async def seed_redis(settings: Settings, metrics: Metrics) -> str:
    store = RedisStore(settings.redis_url, metrics, SEED_TIMEOUT_S)
    try:
        await store.store_widget_configs(widget_configs(settings.widgets))
    finally:
        await store.close()
    return f"redis: wrote {settings.widgets} widget configs (widget:1 .. widget:{settings.widgets})"


async def seed_materialize(settings: Settings, metrics: Metrics) -> str:
    store = MaterializeStore(settings.materialize_dsn, metrics, SEED_TIMEOUT_S)
    try:
        await store.open()
        # DELETE + INSERT rather than INSERT ... ON CONFLICT, which Materialize lacks.
        await store.execute_many(
            "seed_widget_live",
            [
                (_WIDGET_LIVE_DDL, []),
                ("DELETE FROM widget_live", []),
                ("INSERT INTO widget_live (widget_id, value, updated_at) VALUES ($1, $2, now())",
                 live_rows(settings.widgets)),
            ],
        )
    finally:
        await store.close()
    return f"materialize: widget_live rewritten with {settings.widgets} rows"


async def seed_clickhouse(settings: Settings, metrics: Metrics) -> str:
    store = ClickHouseStore(settings.clickhouse_url, metrics, SEED_TIMEOUT_S)
    try:
        await store.execute("create_events", _EVENTS_DDL)
        rows, newest_ts, max_widget, now_ts = (
            int(field)
            for field in (
                await store.execute(
                    "inspect_events",
                    "SELECT count(), toUnixTimestamp(max(ts)), max(widget_id), toUnixTimestamp(now()) "
                    "FROM events FORMAT TabSeparated",
                )
            ).split("\t")
        )
        if rows >= EVENT_ROWS and max_widget == settings.widgets and now_ts - newest_ts < EVENTS_STALE_AFTER_S:
            age_min = (now_ts - newest_ts) // 60
            return f"clickhouse: events already holds {rows} rows (newest {age_min} min old); left as is"
        started = time.perf_counter()
        await store.execute("truncate_events", "TRUNCATE TABLE events")
        await store.execute(
            "insert_events",
            _EVENTS_INSERT.format(span_s=EVENT_SPAN_S, widgets=settings.widgets, rows=EVENT_ROWS),
        )
        took = time.perf_counter() - started
    finally:
        await store.close()
    return f"clickhouse: inserted {EVENT_ROWS} events over the last 24 h in {took:.1f}s (replaced {rows} rows)"


async def seed_all(settings: Settings) -> list[str]:
    """Seed every store; returns the failures, one message each (empty on success)."""
    metrics = Metrics()  # the stores need an observer; seeding timings are not kept
    failures: list[str] = []
    for step in (seed_redis, seed_materialize, seed_clickhouse):
        try:
            print(await step(settings, metrics), flush=True)
        except StoreError as exc:
            failures.append(str(exc))
            print(f"seed failed: {exc}", file=sys.stderr, flush=True)
    return failures


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"seed failed: {exc}", file=sys.stderr)
        return 2
    return 1 if asyncio.run(seed_all(settings)) else 0


if __name__ == "__main__":
    sys.exit(main())
