"""Low-rate datastore probes: one client per store, through its Toxiproxy link.

They give each datastore tier its own samples, independent of how the user
mix happens to exercise it. Each probe paces itself at a fixed rate and fires
Locust ``request`` events whose request type is the tier name.
"""

from __future__ import annotations

import time
from typing import Callable
from urllib.parse import urlparse

import gevent
import pg8000.native
import redis
import requests
from locust.env import Environment

from locustfiles.loadplan import Targets

PROBE_TIMEOUT_S = 10.0


class Probe:
    """One paced loop: connect lazily, call, fire an event, reconnect after errors."""

    def __init__(self, tier: str, rate_per_s: float, connect: Callable[[], object],
                 call: Callable[[object], object]) -> None:
        self.tier = tier
        self.interval_s = 1.0 / rate_per_s
        self._connect = connect
        self._call = call

    def run(self, environment: Environment) -> None:
        client: object | None = None
        next_at = time.monotonic()
        while True:
            started_wall, started = time.time(), time.perf_counter()
            exception: BaseException | None = None
            try:
                if client is None:
                    client = self._connect()
                    started_wall, started = time.time(), time.perf_counter()
                self._call(client)
            except Exception as exc:  # noqa: BLE001 - any store failure is a sample
                exception, client = exc, None
            elapsed_ms = (time.perf_counter() - started) * 1000
            environment.events.request.fire(
                request_type=self.tier, name="probe", response_time=elapsed_ms, response_length=0,
                exception=exception, context={}, start_time=started_wall,
            )
            next_at = max(next_at + self.interval_s, time.monotonic())
            gevent.sleep(next_at - time.monotonic())


def redis_probe(url: str, rate_per_s: float) -> Probe:
    def connect() -> redis.Redis:
        return redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S, socket_connect_timeout=PROBE_TIMEOUT_S)

    return Probe("redis", rate_per_s, connect, lambda client: client.get("widget:1"))  # type: ignore[attr-defined]


def materialize_probe(dsn: str, rate_per_s: float) -> Probe:
    parts = urlparse(dsn)

    def connect() -> pg8000.native.Connection:
        return pg8000.native.Connection(
            user=parts.username or "postgres", password=parts.password, host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432, database=(parts.path or "/").lstrip("/") or None,
            timeout=PROBE_TIMEOUT_S,
        )

    query = "SELECT value FROM widget_live WHERE widget_id = 1"
    return Probe("materialize", rate_per_s, connect, lambda conn: conn.run(query))  # type: ignore[attr-defined]


def clickhouse_probe(url: str, rate_per_s: float) -> Probe:
    query = "SELECT count() FROM events WHERE widget_id = 1 FORMAT TabSeparated"

    def call(session: requests.Session) -> None:
        response = session.post(url, data=query, timeout=PROBE_TIMEOUT_S)
        response.raise_for_status()

    return Probe("clickhouse", rate_per_s, requests.Session, call)  # type: ignore[arg-type]


def probes_for(targets: Targets, rates: dict[str, float]) -> list[Probe]:
    probes = []
    if targets.redis_url:
        probes.append(redis_probe(targets.redis_url, rates["redis"]))
    if targets.materialize_dsn:
        probes.append(materialize_probe(targets.materialize_dsn, rates["materialize"]))
    if targets.clickhouse_url:
        probes.append(clickhouse_probe(targets.clickhouse_url, rates["clickhouse"]))
    return probes
