"""The run's one event stream: typed events the runner emits once, and the observers that receive them.

    RunStarted → LeftoversRemoved? → StackUp → PrometheusUp? → ClockStarted →
        (ToxicsApplied → LiveWindow* → StepThroughPromql? → StepRecorded)* → RunStopped? → ToxicsCleared →
        RunEnded → ResultsWritten
    Note, IncidentRecorded: any time after StackUp

The journal, the console, the metrics exporter (and later the report and the
game-day page) are observers: each reads the run from the same events at the
same moments, instead of each output reading the run its own way. Journaled
events are written with their ``kind`` and fields; that file is what results
and reports are rebuilt from. An event may journal a projection of itself
(``fields()``): a LiveWindow is journaled without its histograms, as the
report's timeline needs only its percentiles.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.contract import ProbeSettings, StepLine
from harness.incidents import Incident
from harness.metrics.promql import PromqlStep
from harness.plan import Plan
from harness.record import StepRecord, result_of
from harness.secrets import mask_secrets
from harness.slo import TierResult
from harness.spec import TierSlo
from harness.stack.base import Endpoints
from harness.stop_tracker import StopFired
from toxics.schedule import ToxicState


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    kind: ClassVar[str]
    journaled: ClassVar[bool] = True
    at: float = Field(default_factory=time.time)

    def fields(self) -> dict[str, Any]:
        """What the journal writes after ``event`` and ``at``."""
        return self.model_dump(mode="json", exclude={"at"})


class RunStarted(Event):
    kind: ClassVar[str] = "run-start"
    experiment: str
    run_id: str
    backend: str
    planned_steps: int
    slos: dict[str, str]  # in words, as reports show them
    slo_bounds: dict[str, TierSlo] = {}  # the same as numbers, for what results derive (recovery)
    schedule: str = "per-step"
    plan: Plan
    probes: dict[str, ProbeSettings]
    folder: Path


class LeftoversRemoved(Event):
    kind: ClassVar[str] = "leftovers-removed"
    removed: list[str]


class StackUp(Event):
    kind: ClassVar[str] = "stack-up"
    backend: str
    endpoints: Endpoints
    notes: list[str]
    versions: dict[str, str]


class PrometheusUp(Event):
    """``--observe``: the run's own Prometheus answers at ``url``; config and TSDB in ``folder``."""

    kind: ClassVar[str] = "prometheus"
    url: str
    folder: Path


class ClockStarted(Event):
    kind: ClassVar[str] = "clock"
    t0: float


class ToxicChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str  # add | update | remove
    toxic: ToxicState


class ToxicsApplied(Event):
    """A step began: its toxics are on (changes made in place), its users ramping."""

    kind: ClassVar[str] = "toxics"
    step: int
    total_steps: int
    users: int
    toxics: list[ToxicState]  # what the step wants on
    changes: list[ToxicChange]
    active: list[ToxicState]  # what is on now


class LiveWindow(Event):
    """The last few seconds' per-tier numbers (faulted path), while a step runs.

    ``measured`` is the merged snapshot those numbers come from (every tier
    and path, HDR histograms). ``fresh`` merges the load processes'
    snapshots that no earlier LiveWindow carried: each sample is in exactly
    one ``fresh``, so adding them up gives the run's counts so far (the
    metrics exporter's cumulative histograms), complete up to the wall time
    ``fresh_until`` (a plan time every process cut its snapshots at).
    """

    kind: ClassVar[str] = "live"
    results: dict[str, TierResult]
    measured: StepLine | None = None
    fresh: StepLine | None = None
    fresh_until: float | None = None

    def fields(self) -> dict[str, Any]:
        """The journal's compact copy: per tier counts and p50/p95/p99 of both paths, no histograms.

        What the report's timeline draws; a 25-step run of 60 s steps journals
        ~300 of these at well under 1 KB each, next to step records that carry
        every histogram.
        """
        measured = self.measured
        controls = {tier: result_of(series.control) for tier, series in measured.tiers.items()} if measured else {}
        tiers = {tier: LiveTier.of(result, controls.get(tier)) for tier, result in self.results.items()}
        for tier, control in controls.items():
            if tier not in tiers and control is not None:
                tiers[tier] = LiveTier(count=0, errors=0, control=LivePath.of(control))
        return {
            "window": list(measured.window) if measured and measured.window else None,
            "users": measured.users if measured else None,
            "tiers": {tier: tier_view.model_dump(mode="json", exclude_none=True) for tier, tier_view in tiers.items()},
        }


class LivePath(BaseModel):
    """One path of one tier in a live window, as journaled: counts and the percentiles the timeline draws."""

    model_config = ConfigDict(frozen=True)

    count: int
    errors: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @classmethod
    def of(cls, result: TierResult) -> LivePath:
        return cls(count=result.count, errors=result.errors, p50_ms=_short(result.p50_ms),
                   p95_ms=_short(result.p95_ms), p99_ms=_short(result.p99_ms))


class LiveTier(LivePath):
    """The faulted path (the fields inherited) and, beside it, the control path."""

    control: LivePath | None = None

    @classmethod
    def of(cls, result: TierResult, control: TierResult | None = None) -> LiveTier:  # type: ignore[override]
        return cls(**LivePath.of(result).model_dump(), control=LivePath.of(control) if control else None)


def _short(value_ms: float | None) -> float | None:
    """Four significant digits: what a chart can show, at a fraction of the journal's bytes."""
    return None if value_ms is None else float(f"{value_ms:.4g}")


class StepRecorded(Event):
    kind: ClassVar[str] = "step"
    record: StepRecord


class StepThroughPromql(Event):
    """``--slo-source prometheus``: the step's window as PromQL reads it, just before its record.

    The record's latency verdicts are then judged on these percentiles; the
    harness's own stand beside them in the record.
    """

    kind: ClassVar[str] = "step-promql"
    view: PromqlStep


class IncidentRecorded(Event):
    """Toxiproxy stopped answering or lost its proxies (and was restored), or a service of the stack died."""

    kind: ClassVar[str] = "incident"
    incident: Incident


class RunStopped(Event):
    """A stop condition held (or a service died under ``on_store_crash: stop``): the run ends aborted.

    Emitted before the faults are reverted (ToxicsCleared follows at once).
    """

    kind: ClassVar[str] = "stopped"
    stop: StopFired


class ToxicsCleared(Event):
    kind: ClassVar[str] = "toxics-cleared"
    removed: list[str]


class RunEnded(Event):
    kind: ClassVar[str] = "run-end"
    status: str
    reason: str | None


class ResultsWritten(Event):
    """summary.json and the rest are on disk (derived from the journal, so never journaled)."""

    kind: ClassVar[str] = "results"
    journaled: ClassVar[bool] = False
    folder: Path
    summary: Any  # harness.results.RunSummary (imported lazily there: results reads the journal)


class Note(Event):
    kind: ClassVar[str] = "note"
    journaled: ClassVar[bool] = False
    message: str

    @field_validator("message")
    @classmethod
    def _masked(cls, message: str) -> str:
        return mask_secrets(message)  # notes reach the terminal, not only the journal


class Observer(Protocol):
    def __call__(self, event: Event) -> None: ...


class EventStream:
    """Hands every event to every observer, in the order they were given."""

    def __init__(self, *observers: Observer) -> None:
        self._observers = list(observers)

    def add(self, observer: Observer) -> None:
        self._observers.append(observer)

    def emit(self, event: Event) -> None:
        for observer in self._observers:
            observer(event)

    def note(self, message: str) -> None:
        self.emit(Note(message=message))
