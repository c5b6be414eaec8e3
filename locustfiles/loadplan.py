"""The Locust side of the engine handshake: the plan clock, and defaults for plain ``locust -f`` runs.

The engine writes ``plan.json`` (``harness.contract.LoadPlan``) before
starting Locust and names it in FLOWFORGE_LOAD_PLAN. Locust touches ``ready``
once its test has started; the engine then writes ``clock.json`` holding t0,
the plan clock's zero, shared by the shape and the recorder.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from harness.contract import ProbeSettings, Targets
from harness.plan import Plan, Step

DEFAULT_USERS = (5, 10, 25, 50, 100)
DEFAULT_STEP_S = 60.0
# Without the engine there is no plan to derive probe rates from: enough for
# a p99 in a 50 s window, and no lower (a store woken from idle every 50 ms
# answers measurably slower: seen Redis p99 1.4 ms at 20/s against 0.8 ms at 100/s).
DEFAULT_PROBES = {
    "redis": ProbeSettings(rate_per_s=100.0, pool_size=2),
    "materialize": ProbeSettings(rate_per_s=50.0, pool_size=2),
    "clickhouse": ProbeSettings(rate_per_s=5.0, pool_size=4),
}


def targets_from_env(host: str) -> Targets:
    """Targets for a plain ``locust -f`` run: --host plus optional FF_* store addresses."""
    return Targets(
        backend=host,
        websocket_url=os.environ.get("FF_WEBSOCKET_URL") or host.replace("http", "ws", 1),
        redis_url=os.environ.get("FF_REDIS_URL"),
        redis_control_url=os.environ.get("FF_REDIS_CONTROL_URL"),
        materialize_dsn=os.environ.get("FF_MATERIALIZE_DSN"),
        materialize_control_dsn=os.environ.get("FF_MATERIALIZE_CONTROL_DSN"),
        clickhouse_url=os.environ.get("FF_CLICKHOUSE_URL"),
        clickhouse_control_url=os.environ.get("FF_CLICKHOUSE_CONTROL_URL"),
    )


def default_plan() -> Plan:
    """The documented ramp, for plain ``locust -f`` runs without the engine."""
    steps = []
    for position, users in enumerate(DEFAULT_USERS):
        start = position * DEFAULT_STEP_S
        steps.append(Step(index=position + 1, users=users, spawn_rate=10.0, start_s=start,
                          window_start_s=start + 10.0, end_s=start + DEFAULT_STEP_S,
                          flush_s=start + DEFAULT_STEP_S + 3.0, toxics=[]))
    return Plan(experiment="locust-only", steps=steps)


class PlanClock:
    """t0 of the plan clock, read lazily from clock.json (or set directly)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._t0: float | None = None
        self._checked_at = 0.0

    def start_now(self) -> None:
        if self._t0 is None:
            self._t0 = time.time()

    def set_t0(self, t0: float) -> None:
        """A Locust worker's clock: t0 as its master sent it (same wall clock assumed, as Locust's stats do)."""
        self._t0 = t0

    def t0(self) -> float | None:
        if self._t0 is None and self._path is not None:
            now = time.monotonic()
            if now - self._checked_at >= 0.1:
                self._checked_at = now
                try:
                    self._t0 = float(json.loads(self._path.read_text())["t0"])
                except (OSError, ValueError, KeyError):
                    pass
        return self._t0

    def elapsed(self, at: float | None = None) -> float | None:
        t0 = self.t0()
        if t0 is None:
            return None
        return (time.time() if at is None else at) - t0
