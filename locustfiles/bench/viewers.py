"""The project's DashboardViewer, held at a viewer count the bench engine sets.

``locust -f locustfiles/bench/viewers.py --headless`` with FF_BENCH_DIR naming a folder:

- ``control.json`` (the engine writes): ``{"users": N, "spawn_rate": R}``, or
  ``{"stop": true}`` to end the test. Read by the shape once a second.
- ``status.json`` (this process writes every second): users, open receive
  loops, request and failure counts per event name (cumulative), and the
  delivery latency buckets of Locust's own stats (cumulative, whole ms).
  The engine diffs two snapshots to get one hold window.

Cumulative counts, not resets, so nothing here runs per message beyond what
a harness run already does: the numbers are the DashboardViewer's own cost.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path

import gevent
import websocket
from locust import LoadTestShape, events
from locust.env import Environment

from locustfiles import users

BENCH_DIR = Path(os.environ.get("FF_BENCH_DIR", "."))
CONTROL = BENCH_DIR / "control.json"
STATUS = BENCH_DIR / "status.json"
WANTED_FILES = 65536


def _raise_file_limit() -> None:
    """One socket per viewer: thousands of descriptors. Root may raise the hard limit too."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= WANTED_FILES:
        return
    if hard != resource.RLIM_INFINITY and hard < WANTED_FILES:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (WANTED_FILES, WANTED_FILES))
            return
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # as far as we may
            return
    resource.setrlimit(resource.RLIMIT_NOFILE, (WANTED_FILES, hard))


_raise_file_limit()


class BenchViewer(users.DashboardViewer):
    websocket_url = os.environ.get("FF_BENCH_WS_URL", "")
    receiving = 0  # open receive loops across all viewers: the connected count

    def _receive(self, sock: websocket.WebSocket) -> None:
        cls = type(self)
        cls.receiving += 1
        try:
            super()._receive(sock)
        finally:
            cls.receiving -= 1


class ControlShape(LoadTestShape):
    """The users the engine asked for; none until it asks; None (stop) when told."""

    def __init__(self) -> None:
        super().__init__()
        self._mtime = 0.0
        self._tick: tuple[int, float] | None = (0, 1.0)

    def tick(self) -> tuple[int, float] | None:
        try:
            mtime = CONTROL.stat().st_mtime
            if mtime != self._mtime:
                control = json.loads(CONTROL.read_text())
                self._mtime = mtime
                self._tick = None if control.get("stop") else (int(control["users"]), float(control["spawn_rate"]))
        except (OSError, ValueError, KeyError):
            pass  # not written yet, or half written: keep the last answer
        return self._tick


@events.test_start.add_listener
def _started(environment: Environment, **_: object) -> None:
    gevent.spawn(_report, environment)


def _report(environment: Environment) -> None:
    while True:
        write_status(environment)
        gevent.sleep(1.0)


def write_status(environment: Environment) -> None:
    stats = environment.stats
    entries = {name: {"requests": entry.num_requests, "failures": entry.num_failures}
               for (name, _method), entry in stats.entries.items()}
    delivery = stats.entries.get(("delivery", "websocket"))
    runner = environment.runner
    status = {
        "at": time.time(),
        "users": runner.user_count if runner else 0,
        "connected": BenchViewer.receiving,
        "entries": entries,
        "delivery_ms": dict(delivery.response_times) if delivery is not None else {},
    }
    partial = STATUS.with_suffix(".tmp")
    partial.write_text(json.dumps(status))
    partial.replace(STATUS)
