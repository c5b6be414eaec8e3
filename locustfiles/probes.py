"""Low-rate datastore probes: one client per store, through its Toxiproxy link.

They give each datastore tier its own samples, independent of how the user
mix happens to exercise it. Each probe paces itself at a fixed rate and hands
every call to a sink with the signature of a Locust ``request`` event, the
request type being the tier name.

The code is plain blocking Python: under the harness the probes run in their
own small process (``locustfiles.probe_process``), away from the load
generator's event loop and garbage, because a 1 ms SLO cannot absorb the
scheduling jitter of a busy gevent process. In a plain ``locust -f`` run they
run as greenlets, which gevent's patching makes cooperative.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlparse

import pg8000.native
import redis
import requests

from locustfiles.loadplan import Targets

PROBE_TIMEOUT_S = 10.0


class Sink(Protocol):
    def __call__(self, *, request_type: str, name: str, response_time: float,
                 exception: BaseException | None, start_time: float, **kwargs: Any) -> None: ...


class Probe:
    """One paced loop: connect lazily, call, report, reconnect after errors."""

    def __init__(self, tier: str, rate_per_s: float, connect: Callable[[], Any],
                 call: Callable[[Any], object]) -> None:
        self.tier = tier
        self.interval_s = 1.0 / rate_per_s
        self._connect = connect
        self._call = call

    def run(self, sink: Sink, stop: threading.Event) -> None:
        client: Any = None
        next_at = time.monotonic()
        while not stop.is_set():
            exception: BaseException | None = None
            # A failure counts from when the attempt began (connect included),
            # so a 10 s timeout lands in the step it started in; a success
            # counts the call alone, never the connect.
            started_wall, started = time.time(), time.perf_counter()
            try:
                if client is None:
                    client = self._connect()
                    started_wall, started = time.time(), time.perf_counter()
                self._call(client)
            except Exception as exc:  # noqa: BLE001 - any store failure is a sample
                exception, client = exc, None
            elapsed_ms = (time.perf_counter() - started) * 1000
            sink(request_type=self.tier, name="probe", response_time=elapsed_ms, response_length=0,
                 exception=exception, context={}, start_time=started_wall)
            next_at = max(next_at + self.interval_s, time.monotonic())
            stop.wait(max(0.0, next_at - time.monotonic()))


def redis_probe(url: str, rate_per_s: float) -> Probe:
    def connect() -> redis.Redis:
        client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S,
                                      socket_connect_timeout=PROBE_TIMEOUT_S)
        client.ping()
        return client

    return Probe("redis", rate_per_s, connect, lambda client: client.get("widget:1"))


def materialize_probe(dsn: str, rate_per_s: float) -> Probe:
    parts = urlparse(dsn)

    def connect() -> pg8000.native.Connection:
        return pg8000.native.Connection(
            user=parts.username or "postgres", password=parts.password, host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432, database=(parts.path or "/").lstrip("/") or None,
            timeout=PROBE_TIMEOUT_S,
        )

    query = "SELECT value FROM widget_live WHERE widget_id = 1"
    return Probe("materialize", rate_per_s, connect, lambda conn: conn.run(query))


def clickhouse_probe(url: str, rate_per_s: float) -> Probe:
    query = "SELECT count() FROM events WHERE widget_id = 1 FORMAT TabSeparated"

    def call(session: requests.Session) -> None:
        response = session.post(url, data=query, timeout=PROBE_TIMEOUT_S)
        response.raise_for_status()

    def connect() -> requests.Session:
        # requests connects on first use: one call here keeps the TCP connect
        # out of the first measured sample, as the other probes do.
        session = requests.Session()
        session.get(f"{url}/ping", timeout=PROBE_TIMEOUT_S).raise_for_status()
        return session

    return Probe("clickhouse", rate_per_s, connect, call)


def probes_for(targets: Targets, rates: dict[str, float]) -> list[Probe]:
    probes = []
    if targets.redis_url:
        probes.append(redis_probe(targets.redis_url, rates["redis"]))
    if targets.materialize_dsn:
        probes.append(materialize_probe(targets.materialize_dsn, rates["materialize"]))
    if targets.clickhouse_url:
        probes.append(clickhouse_probe(targets.clickhouse_url, rates["clickhouse"]))
    return probes
