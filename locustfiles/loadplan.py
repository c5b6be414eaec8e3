"""The engine → Locust handshake: the load plan file and the plan clock.

The engine writes ``plan.json`` (steps, targets, where to write records)
before starting Locust and names it in FLOWFORGE_LOAD_PLAN. Locust touches
``ready`` once its test has started; the engine then writes ``clock.json``
holding t0, the plan clock's zero, shared by the shape and the recorder.
Files, not sockets: they are easy to inspect after a run, and a killed
engine leaves nothing listening.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from harness.plan import Plan, Step

PLAN_ENV = "FLOWFORGE_LOAD_PLAN"
DEFAULT_USERS = (5, 10, 25, 50, 100)
DEFAULT_STEP_S = 60.0
DEFAULT_PROBE_RATES = {"redis": 100.0, "materialize": 50.0, "clickhouse": 5.0}


class Targets(BaseModel):
    """Where load and probes go: the stack's own addresses, nothing else."""

    model_config = ConfigDict(frozen=True)

    backend: str
    websocket_url: str | None = None
    redis_url: str | None = None
    materialize_dsn: str | None = None
    clickhouse_url: str | None = None


class LoadPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan: Plan
    targets: Targets
    folder: Path
    # Probe calls per second per datastore tier: enough samples for a p99 in a
    # short window, little enough not to be the load. Not lower: a store woken
    # from idle every 50 ms answers measurably slower (seen: Redis p99 1.4 ms at
    # 20/s against 0.8 ms at 100/s through the proxy), which a 1 ms SLO cannot absorb.
    probe_rates: dict[str, float] = DEFAULT_PROBE_RATES

    @property
    def clock_path(self) -> Path:
        return self.folder / "clock.json"

    @property
    def ready_path(self) -> Path:
        return self.folder / "ready"

    @property
    def records_path(self) -> Path:
        return self.folder / "steps.jsonl"

    def probe_tiers(self) -> list[str]:
        given = {"redis": self.targets.redis_url, "materialize": self.targets.materialize_dsn,
                 "clickhouse": self.targets.clickhouse_url}
        return [tier for tier, address in given.items() if address]

    def probe_ready_path(self, tier: str) -> Path:
        return self.folder / f"probe-{tier}-ready"

    def probe_records_path(self, tier: str) -> Path:
        return self.folder / f"probe-{tier}-steps.jsonl"

    def write(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "plan.json"
        path.write_text(self.model_dump_json(indent=2))
        return path


def load_from_env() -> LoadPlan | None:
    path = os.environ.get(PLAN_ENV)
    if not path:
        return None
    return LoadPlan.model_validate_json(Path(path).read_text())


def targets_from_env(host: str) -> Targets:
    """Targets for a plain ``locust -f`` run: --host plus optional FF_* store addresses."""
    return Targets(
        backend=host,
        websocket_url=os.environ.get("FF_WEBSOCKET_URL") or host.replace("http", "ws", 1),
        redis_url=os.environ.get("FF_REDIS_URL"),
        materialize_dsn=os.environ.get("FF_MATERIALIZE_DSN"),
        clickhouse_url=os.environ.get("FF_CLICKHOUSE_URL"),
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


def write_clock(path: Path, t0: float) -> None:
    """Atomically: the reader never sees half a file."""
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps({"t0": t0}))
    partial.replace(path)
