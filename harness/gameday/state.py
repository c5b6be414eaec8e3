"""What ``GET /api/state`` and the page show, kept from the run's events, and the board that serves it.

``StateKeeper`` observes the event stream in the session's thread (live
windows, step records, the game day's markers); the session adds what only it
knows (faults, users wanted, the script) and publishes the whole as JSON on
the ``Board``, which the API's threads read under a lock. Countdowns run in
the page from each fault's ``revert_at`` and the session's ``now``.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from pydantic import BaseModel

from harness.events import Event, LiveWindow, RunStarted, StackUp, StepRecorded
from harness.gameday.events import FaultView, GameDayEvent
from harness.record import result_of
from harness.slo import TierResult
from harness.spec import TierSlo

HISTORY_POINTS = 120  # live windows per tier kept for the page's chart (10 min at 5 s)
TIMELINE_EVENTS = 500


class LivePoint(BaseModel):
    at: float  # the live window's end
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    error_ratio: float = 0.0
    count: int = 0
    control_p50_ms: float | None = None


class TierState(BaseModel):
    tier: str
    slo: str
    state: str  # holding | breached | no-data (live, debounced)
    live: LivePoint | None = None
    verdict: str | None = None  # the last measurement window's
    verdict_window: int | None = None
    history: list[LivePoint] = []


class Marker(BaseModel):
    at: float
    kind: str
    marker: str


class ScriptState(BaseModel):
    name: str
    position: int
    total: int
    current: str | None
    upcoming: str | None
    finished: bool


class SessionState(BaseModel):
    run_id: str
    folder: str
    started_at: float
    now: float
    ending: bool
    control_url: str
    revert_after_s: float
    window_s: float
    users: int
    spawn_rate: float
    users_running: int | None
    links: dict[str, dict[str, Any]]
    faults: list[FaultView]
    tiers: dict[str, TierState]
    halt_conditions: list[str]
    script: ScriptState | None
    timeline: list[Marker]


class StateKeeper:
    """The run's events as the page needs them; an observer, called in the session's thread."""

    def __init__(self, slos: dict[str, TierSlo]) -> None:
        self.slos = slos
        self.run_id, self.folder, self.started_at = "", "", 0.0
        self.history: dict[str, deque[LivePoint]] = {tier: deque(maxlen=HISTORY_POINTS) for tier in slos}
        self.verdicts: dict[str, tuple[str, int]] = {}
        self.timeline: deque[Marker] = deque(maxlen=TIMELINE_EVENTS)
        self.users_running: int | None = None
        self.latest: LiveWindow | None = None
        self.windows_seen = 0
        self.changed = True

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_id, self.folder, self.started_at = event.run_id, str(event.folder), event.at
        elif isinstance(event, StackUp):
            self.timeline.append(Marker(at=event.at, kind=event.kind, marker="stack up"))
        elif isinstance(event, LiveWindow):
            self._live(event)
        elif isinstance(event, StepRecorded):
            for tier, verdict in event.record.slo.items():
                self.verdicts[tier] = (verdict.value, event.record.index)
        elif isinstance(event, GameDayEvent):
            self.timeline.append(Marker(at=event.at, kind=event.kind, marker=event.marker))
        else:
            return
        self.changed = True

    def _live(self, window: LiveWindow) -> None:
        self.latest = window
        self.windows_seen += 1
        measured = window.measured
        at = measured.window[1] if measured and measured.window else window.at
        if measured is not None and measured.users is not None:
            self.users_running = measured.users
        for tier in self.slos:
            result = window.results.get(tier)
            series = measured.tiers.get(tier) if measured else None
            control = result_of(series.control) if series is not None and series.control is not None else None
            self.history[tier].append(_point(at, result, control))

    def tiers(self, states: dict[str, str]) -> dict[str, TierState]:
        tiers = {}
        for tier, slo in self.slos.items():
            history = list(self.history[tier])
            verdict = self.verdicts.get(tier)
            tiers[tier] = TierState(tier=tier, slo=slo.describe(), state=states.get(tier, "no-data"),
                                    live=history[-1] if history else None, history=history,
                                    verdict=verdict[0] if verdict else None,
                                    verdict_window=verdict[1] if verdict else None)
        return tiers


def _point(at: float, result: TierResult | None, control: TierResult | None) -> LivePoint:
    control_p50 = _short(control.p50_ms) if control else None
    if result is None:
        return LivePoint(at=round(at, 3), control_p50_ms=control_p50)
    return LivePoint(at=round(at, 3), p50_ms=_short(result.p50_ms), p95_ms=_short(result.p95_ms),
                     p99_ms=_short(result.p99_ms), error_ratio=round(result.error_ratio, 4), count=result.count,
                     control_p50_ms=control_p50)


def _short(value_ms: float | None) -> float | None:
    """Four significant digits: what the page shows, at a fraction of the bytes pushed every few seconds."""
    return None if value_ms is None else float(f"{value_ms:.4g}")


class Board:
    """The last published state, as JSON, for the API's threads; a version number for the live stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._json = "{}"
        self.version = 0
        self.closed = False

    def publish(self, state: SessionState) -> None:
        text = state.model_dump_json()
        with self._lock:
            self._json = text
            self.version += 1

    def read(self) -> tuple[int, str]:
        with self._lock:
            return self.version, self._json

    def close(self) -> None:
        self.closed = True
