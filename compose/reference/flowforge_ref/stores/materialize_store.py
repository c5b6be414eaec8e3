"""Materialize (PostgreSQL wire protocol): the live per-widget values.

SQL here stays plain PostgreSQL that Materialize also accepts; locally a real
PostgreSQL stands in for Materialize.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import asyncpg

from ..models import LiveValue
from ..tiers import StoreError, Tier
from .timed_call import CallObserver, timed_call

_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """Pool reset hook that sends nothing.

    asyncpg's default reset runs `pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL` on every release: Materialize rejects parts of it,
    and it would add a round trip inside every timed call. Our sessions never
    change state, so there is nothing to reset.
    """


class MaterializeStore:
    def __init__(self, dsn: str, observer: CallObserver, timeout_s: float) -> None:
        self._dsn = dsn
        self._observer = observer
        self._timeout_s = timeout_s
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        # min_size=0: no connection at start, so the app comes up while the
        # store (or its proxy) is down and /healthz can name it.
        self._pool = await asyncpg.create_pool(
            self._dsn,
            min_size=0,
            max_size=10,
            timeout=self._timeout_s,
            command_timeout=self._timeout_s,
            reset=_keep_session,
        )

    @property
    def _ready_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StoreError(Tier.MATERIALIZE, "store used before open()")
        return self._pool

    async def live_value(self, widget_id: int) -> LiveValue | None:
        pool = self._ready_pool
        async with timed_call(self._observer, Tier.MATERIALIZE, "live_value", self._timeout_s, _ERRORS):
            row = await pool.fetchrow(
                "SELECT value, updated_at FROM widget_live WHERE widget_id = $1", widget_id
            )
        return None if row is None else LiveValue(value=row["value"], updated_at=row["updated_at"])

    async def all_live_values(self) -> dict[int, float]:
        pool = self._ready_pool
        async with timed_call(self._observer, Tier.MATERIALIZE, "live_refresh", self._timeout_s, _ERRORS):
            rows = await pool.fetch("SELECT widget_id, value FROM widget_live")
        return {row["widget_id"]: row["value"] for row in rows}

    async def execute(self, op: str, sql: str, *args: object) -> str:
        """Run one statement; returns the server's status tag (e.g. `DELETE 100`)."""
        pool = self._ready_pool
        async with timed_call(self._observer, Tier.MATERIALIZE, op, self._timeout_s, _ERRORS):
            return await pool.execute(sql, *args)

    async def execute_many(self, op: str, statements: Iterable[tuple[str, Sequence[Sequence[object]]]]) -> None:
        """Run (sql, rows) pairs in one transaction, each sql once per row."""
        pool = self._ready_pool
        async with timed_call(self._observer, Tier.MATERIALIZE, op, self._timeout_s, _ERRORS):
            async with pool.acquire() as connection, connection.transaction():
                for sql, rows in statements:
                    if rows:
                        await connection.executemany(sql, rows)
                    else:
                        await connection.execute(sql)

    async def ping(self, timeout_s: float) -> None:
        pool = self._ready_pool
        async with timed_call(self._observer, Tier.MATERIALIZE, "ping", timeout_s, _ERRORS):
            await pool.fetchval("SELECT 1")

    async def close(self) -> None:
        if self._pool is None:
            return
        # A graceful close waits for queries in flight; one stuck behind a
        # `timeout` toxic must not hold up shutdown.
        try:
            await asyncio.wait_for(self._pool.close(), self._timeout_s)
        except TimeoutError:
            self._pool.terminate()
