"""Datastore probes: paced calls to each store through its faulted link and its control link.

They give each datastore tier its own samples, independent of how the user
mix happens to exercise it, and a control series beside them: the same call
to the same store through a proxy that never carries a toxic, alternated
with the faulted calls at the same rate from the same process, so both see
the same host. Each sample goes to a sink with the signature of a Locust
``request`` event (request type = tier; ``context["path"]`` = ``faulted``
or ``control``).

Open model, as wrk2 does it: every call has an intended send time on a fixed
schedule, and its latency counts from that time (``response_time``), so a
stalled probe cannot hide a stall; the time from the actual send goes along
as ``context["service_ms"]``. Each path has a small pool of connections, one
thread each, every thread on its own share of the schedule, so one slow call
does not hold back the next and a toxicity below 1 (rolled per connection)
reaches about that share of the calls.

The code is plain blocking Python: under the harness the probes run in their
own small process (``locustfiles.probe_process``), away from the load
generator's event loop and garbage, because a 1 ms SLO cannot absorb the
scheduling jitter of a busy gevent process. In a plain ``locust -f`` run
gevent's patching makes the threads cooperative.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

import pg8000.native
import redis
import requests

from harness.contract import CONTROL, FAULTED, ProbeSettings, SamplePath, Targets
from locustfiles.viewer_probe import ViewerProbe

PROBE_TIMEOUT_S = 10.0
START_LEAD_S = 0.05


class Sink(Protocol):
    def __call__(self, *, request_type: str, name: str, response_time: float,
                 exception: BaseException | None, start_time: float, **kwargs: Any) -> None: ...


class Probe:
    """One tier's paced calls through its faulted and (when given) control address."""

    def __init__(self, tier: str, addresses: dict[SamplePath, str], settings: ProbeSettings,
                 connect: Callable[[str], Any], call: Callable[[Any], object]) -> None:
        self.tier = tier
        self.addresses = addresses
        self.settings = settings
        self._connect = connect
        self._call = call

    def run(self, sink: Sink, stop: threading.Event) -> None:
        """Run every path's pool until ``stop`` is set."""
        interval_s = 1.0 / self.settings.rate_per_s
        base = time.monotonic() + START_LEAD_S
        base_wall = time.time() + START_LEAD_S
        workers = []
        for offset, path in enumerate(self.addresses):
            for slot in range(self.settings.pool_size):
                schedule = Schedule(base + offset * interval_s / len(self.addresses), interval_s,
                                    slot, self.settings.pool_size)
                worker = threading.Thread(target=self._work, args=(path, schedule, base, base_wall, sink, stop),
                                          name=f"probe-{self.tier}-{path}-{slot}", daemon=True)
                workers.append(worker)
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _work(self, path: SamplePath, schedule: Schedule, base: float, base_wall: float, sink: Sink,
              stop: threading.Event) -> None:
        address = self.addresses[path]
        client = self._try_connect(address)
        for intended in schedule:
            delay = intended - time.monotonic()
            if delay > 0 and stop.wait(delay):
                return
            if stop.is_set():
                return
            exception: BaseException | None = None
            try:
                if client is None:
                    client = self._connect(address)
                sent = time.monotonic()
                self._call(client)
            except Exception as exc:  # noqa: BLE001 - any store failure is a sample
                exception, client, sent = exc, None, intended
            done = time.monotonic()
            sink(request_type=self.tier, name="probe", response_time=(done - intended) * 1000.0,
                 response_length=0, exception=exception, start_time=base_wall + (intended - base),
                 context={"path": path, "service_ms": (done - sent) * 1000.0})

    def _try_connect(self, address: str) -> Any:
        # Connect before the schedule starts, so no measured sample pays for it;
        # a store not answering yet is retried (and counted) at the first call.
        try:
            return self._connect(address)
        except Exception:  # noqa: BLE001
            return None


class Schedule:
    """Intended send times of one pool slot: every ``pool``-th tick of a fixed-rate clock."""

    def __init__(self, start: float, interval_s: float, slot: int, pool: int) -> None:
        self.start, self.interval_s, self.slot, self.pool = start, interval_s, slot, pool

    def __iter__(self):  # type: ignore[no-untyped-def]
        tick = self.slot
        while True:
            yield self.start + tick * self.interval_s
            tick += self.pool


def _paths(faulted: str | None, control: str | None) -> dict[SamplePath, str]:
    paths: dict[SamplePath, str] = {}
    if faulted:
        paths[FAULTED] = faulted
    if control:
        paths[CONTROL] = control
    return paths


def redis_probe(paths: dict[SamplePath, str], settings: ProbeSettings) -> Probe:
    def connect(url: str) -> redis.Redis:
        client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_S,
                                      socket_connect_timeout=PROBE_TIMEOUT_S)
        client.ping()
        return client

    return Probe("redis", paths, settings, connect, lambda client: client.get("widget:1"))


def materialize_probe(paths: dict[SamplePath, str], settings: ProbeSettings) -> Probe:
    def connect(dsn: str) -> pg8000.native.Connection:
        parts = urlparse(dsn)
        return pg8000.native.Connection(
            user=unquote(parts.username or "postgres"), password=unquote(parts.password) if parts.password else None,
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432, database=(parts.path or "/").lstrip("/") or None,
            timeout=PROBE_TIMEOUT_S,
        )

    query = "SELECT value FROM widget_live WHERE widget_id = 1"
    return Probe("materialize", paths, settings, connect, lambda conn: conn.run(query))


def clickhouse_probe(paths: dict[SamplePath, str], settings: ProbeSettings) -> Probe:
    query = "SELECT count() FROM events WHERE widget_id = 1 FORMAT TabSeparated"

    def call(client: tuple[requests.Session, str]) -> None:
        session, url = client
        response = session.post(url, data=query, timeout=PROBE_TIMEOUT_S)
        response.raise_for_status()

    def connect(url: str) -> tuple[requests.Session, str]:
        # requests connects on first use: one call here keeps the TCP connect
        # out of the first measured sample, as the other probes do.
        session = requests.Session()
        session.get(f"{url}/ping", timeout=PROBE_TIMEOUT_S).raise_for_status()
        return session, url

    return Probe("clickhouse", paths, settings, connect, call)


PROBES = {"redis": redis_probe, "materialize": materialize_probe, "clickhouse": clickhouse_probe,
          "websocket": ViewerProbe}


def probes_for(targets: Targets, settings: dict[str, ProbeSettings]) -> list[Probe | ViewerProbe]:
    """A probe per datastore tier that has an address and settings."""
    probes = []
    for tier, make in PROBES.items():
        paths = _paths(*targets.addresses(tier))
        if FAULTED in paths and tier in settings:
            probes.append(make(paths, settings[tier]))
    return probes
