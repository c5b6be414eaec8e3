"""Redis's own account of its GETs: INFO latencystats and commandstats.

``CONFIG RESETSTAT`` at the window's start zeroes both, so what INFO says
at the end is the window alone. The times are Redis's own command
execution (no network, no queueing in the client), so a latency toxic on
the link does not show here: that is the point. latencystats needs Redis
7.0+ with ``latency-tracking yes`` (7.0's default); which percentiles it
gives is ``latency-tracking-info-percentiles`` (default 50 99 99.9).

The redis package is imported here only; its errors become VantageError.
"""

from __future__ import annotations

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from harness.vantage.reading import Reading, address_of
from harness.vantage.views import ServerView, VantageError

SOURCE = "redis INFO latencystats + commandstats (GET, server-internal)"
# latencystats' names for the percentiles a ServerView holds.
PERCENTILE_FIELDS = {"p50": "p50_ms", "p90": "p90_ms", "p95": "p95_ms", "p99": "p99_ms", "p99.9": "p999_ms"}


def info_fields(text: str, key: str) -> dict[str, str] | None:
    """The ``a=1,b=2`` fields of INFO's line ``key:...``, or None when INFO has no such line."""
    for line in text.splitlines():
        name, colon, value = line.strip().partition(":")
        if colon and name == key:
            pairs = [pair.partition("=") for pair in value.split(",")]
            return {field: number for field, _, number in pairs}
    return None


def get_view(info: str) -> Reading:
    """The window's GETs from the text of ``INFO latencystats commandstats``.

    Redis lists no ``cmdstat_get`` line until a GET ran since the reset: no
    line means no GETs, not a fault.
    """
    try:
        calls_fields = info_fields(info, "cmdstat_get") or {"calls": "0", "usec": "0"}
        calls, usec = int(calls_fields["calls"]), int(calls_fields["usec"])
        latency = info_fields(info, "latency_percentiles_usec_get") or {}
        percentiles = {
            PERCENTILE_FIELDS[name]: float(usec_value) / 1000
            for name, usec_value in latency.items() if name in PERCENTILE_FIELDS
        }
    except (KeyError, ValueError) as exc:
        raise VantageError(f"redis: unreadable INFO answer ({exc!r})") from exc
    if calls == 0:
        return Reading(views={"redis": ServerView(source=SOURCE, count=0)})
    problems = []
    if not percentiles:
        problems.append(f"redis: INFO latencystats has no GET percentiles though {calls} GETs ran "
                        "(latency-tracking off, or Redis older than 7.0); count and mean only")
    view = ServerView(source=SOURCE, count=calls, mean_ms=usec / calls / 1000, **percentiles)
    return Reading(views={"redis": view}, problems=problems)


class RedisView:
    name = "redis"

    def __init__(self, url: str, timeout_s: float) -> None:
        self._address = address_of(url)
        # No retries: redis-py's default three would stretch a dead server's
        # answer to four timeouts.
        self._client = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                      retry=Retry(NoBackoff(), 0), decode_responses=True)
        # INFO's text as Redis sends it, for get_view to parse (redis-py would split it into dicts).
        self._client.set_response_callback("INFO", lambda response, **_: response)

    def start(self) -> None:
        self._call("CONFIG RESETSTAT", "CONFIG", "RESETSTAT")

    def end(self) -> Reading:
        return get_view(str(self._call("INFO", "INFO", "latencystats", "commandstats")))

    def close(self) -> None:
        self._client.close()

    def _call(self, what: str, *command: str) -> object:
        try:
            return self._client.execute_command(*command)
        except RedisError as exc:
            raise VantageError(f"redis at {self._address}: {what} failed: {exc}") from exc
