"""The materialize tier's own timing, where the server offers one.

On the local and offline backends PostgreSQL stands in for Materialize, and
the best it keeps is ``pg_stat_statements``: calls, mean and max execution
time per statement, no percentiles. It needs the library preloaded and the
extension created (harness/stack/services.py, compose/offline/postgres-entry.sh).
``pg_stat_statements_reset()`` at the window's start makes the end's read the
window alone. Real Materialize has no such view; that is said, not failed on.

pg8000 is imported here only; its errors become VantageError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import pg8000.native

from harness.vantage.reading import Reading, address_of
from harness.vantage.views import ServerView, VantageError

T = TypeVar("T")

SOURCE = "postgresql pg_stat_statements (mean and max only, no percentiles)"

# The widget_live reads (the backend's live value and refresh, the probes'
# point read), summed. The query text is stored normalised (constants become
# $n), so the pattern stays on words; our own read names pg_stat_statements
# and is left out by that.
_WINDOW_SQL = r"""
SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(total_exec_time), 0)::float8, max(max_exec_time)::float8
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query ~* '^\s*select\M.*\mwidget_live\M'
  AND query !~* 'pg_stat_statements'
"""


def view_of(calls: int, total_ms: float, max_ms: float | None) -> ServerView:
    if calls == 0:
        return ServerView(source=SOURCE, count=0)
    return ServerView(source=SOURCE, count=calls, mean_ms=total_ms / calls, max_ms=max_ms)


class PostgresView:
    name = "materialize"

    def __init__(self, dsn: str, timeout_s: float) -> None:
        parts = urlsplit(dsn)
        self._address = address_of(dsn)
        self._connect_args = {
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password) if parts.password else None,
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "database": parts.path.lstrip("/") or None,
            "timeout": timeout_s,
        }
        # Learnt at the first connection, and it does not change.
        self._is_materialize = False

    def start(self) -> None:
        def reset(connection: pg8000.native.Connection) -> None:
            # Materialize announces itself at connect time (parameter mz_version).
            self._is_materialize = "mz_version" in connection.parameter_statuses
            if not self._is_materialize:
                connection.run("SELECT pg_stat_statements_reset()")

        if not self._is_materialize:
            self._session("reset pg_stat_statements", reset)
        if self._is_materialize:
            raise VantageError("materialize: no per-query timing view (the server is Materialize, "
                               "which has no pg_stat_statements)")

    def end(self) -> Reading:
        def read(connection: pg8000.native.Connection) -> ServerView:
            calls, total_ms, max_ms = connection.run(_WINDOW_SQL)[0]
            return view_of(int(calls), float(total_ms), None if max_ms is None else float(max_ms))

        return Reading(views={"materialize": self._session("read pg_stat_statements", read)})

    def close(self) -> None:
        """Nothing held between windows: each read has its own short connection."""

    def _session(self, what: str, work: Callable[[pg8000.native.Connection], T]) -> T:
        where = f"materialize (postgresql) at {self._address}"
        try:
            connection = pg8000.native.Connection(**self._connect_args)
        except (pg8000.native.Error, OSError) as exc:
            raise VantageError(f"{where}: cannot connect: {_message(exc)}") from exc
        try:
            return work(connection)
        except (pg8000.native.Error, OSError) as exc:
            raise VantageError(f"{where}: {what} failed: {_message(exc)}") from exc
        finally:
            try:
                connection.close()
            except (pg8000.native.Error, OSError):
                pass  # the answer is in; a failed goodbye changes nothing

def _message(exc: Exception) -> str:
    """The server's own sentence: pg8000 carries PostgreSQL's error fields as a dict (M is the message)."""
    fields = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else None
    if fields is None:
        return str(exc)
    if fields.get("C") in ("42883", "42P01"):  # undefined function / table
        return f"{fields.get('M')} (pg_stat_statements not preloaded and created?)"
    return str(fields.get("M", fields))
