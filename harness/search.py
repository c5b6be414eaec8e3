"""Breaking-point search: the smallest fault that breaks one tier's SLO, by bisection on one running stack.

The run is a plan of short windows at one user count; the search steers it,
choosing each window's fault from the verdicts so far (``Steering``):

    1. the top of the range (if the SLO holds there, it holds everywhere asked),
    2. no fault (if the SLO breaks there, the fault is not what breaks it),
    3. then halves [holds, breaks] until it is narrower than the tolerance.

A window whose verdict is inconclusive is measured again (up to twice), never
guessed; if it stays inconclusive the search stops and says between which
magnitudes the answer lies. Latency breaks upwards, bandwidth downwards.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from harness.errors import SpecError
from harness.plan import Step
from harness.record import StepRecord
from harness.slo import Verdict
from harness.spec import Experiment
from toxics.catalogue import parse_level
from toxics.fault import Fault
from toxics.model import ToxicModel
from toxics.schedule import ToxicState

# The one field a search moves per toxic type, and whether more of it is worse.
MAGNITUDES = {"latency": ("latency_ms", True), "bandwidth": ("rate_kbps", False)}
MAX_REPEATS = 2
# Settling per window: the record of the window before arrives within its flush grace
# (≤ 3 s), the next fault goes on then, and the links settle before measuring starts.
SETTLE_S = 5.0


class Window(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: int
    magnitude: float
    verdict: Verdict
    value_ms: float | None  # the judged percentile on the faulted path


class SearchResult(BaseModel):
    """Where the SLO breaks: between ``holds_at`` and ``breaks_at`` (in ``field``)."""

    model_config = ConfigDict(frozen=True)

    tier: str
    slo: str
    link: str
    type: str
    field: str
    users: int
    tolerance: float
    holds_at: float | None  # the worst magnitude measured that held
    breaks_at: float | None  # the mildest magnitude measured that broke
    breaking_point: float | None
    outcome: str  # found | holds-everywhere | breaks-without-fault | undecided
    windows: list[Window]

    def sentence(self) -> str:
        unit = self.field.rsplit("_", 1)[-1].replace("kbps", "KB/s")
        if self.outcome == "found":
            return (f"{self.tier} ({self.slo}) breaks at {self.type} ≈ {self.breaking_point:g} {unit} on the "
                    f"{self.link} link at {self.users} users (holds at {self.holds_at:g}, breaks at "
                    f"{self.breaks_at:g}; tolerance {self.tolerance:g})")
        if self.outcome == "holds-everywhere":
            return f"{self.tier} ({self.slo}) holds at every {self.type} asked, up to {self.holds_at:g} {unit}"
        if self.outcome == "breaks-without-fault":
            return f"{self.tier} ({self.slo}) breaks at {self.users} users with no fault at all"
        return (f"{self.tier} ({self.slo}): undecided between {self.holds_at} and {self.breaks_at} {unit} "
                "(windows stayed inconclusive; lengthen them with --window-seconds)")


class BreakingPointSearch:
    """Steers a run window by window; ``result()`` says what it found."""

    def __init__(self, experiment: Experiment, tier: str, users: int, low: float, high: float,
                 tolerance: float) -> None:
        self.fault = fault_for(experiment, tier)
        self.field, self.worse_up = MAGNITUDES[self.fault.type]
        self.tier, self.users, self.tolerance = tier, users, tolerance
        self.slo = experiment.slos[tier]
        # Bisection runs on "severity": 0 = no fault, 1 = the worst asked.
        self.low, self.high = low, high
        self.holds: float | None = None  # severity that held
        self.breaks: float | None = None  # severity that broke
        self.windows: list[Window] = []
        self._pending: float | None = None
        self._repeats = 0
        self._learned: set[int] = set()
        self.outcome = "undecided"

    def magnitude(self, severity: float) -> float:
        value = self.low + severity * (self.high - self.low) if self.worse_up else \
            self.high - severity * (self.high - self.low)
        return round(value, 3)

    def toxics_for(self, step: Step, records: list[StepRecord]) -> list[ToxicState] | None:
        """The fault of the next window, or None when the search is over."""
        self.finish(records)
        severity = self._next()
        if severity is None:
            return None
        self._pending = severity
        return self.state(severity)

    def finish(self, records: list[StepRecord]) -> None:
        """Learn from the newest window's record, once (also after the plan's last window)."""
        if self._pending is not None and records and records[-1].index not in self._learned:
            self._learned.add(records[-1].index)
            self._learn(records[-1])

    def state_level(self, severity: float) -> ToxicModel:
        magnitude = self.magnitude(severity)
        return parse_level(self.fault.type, {self.field: max(1, round(magnitude)) if not self.worse_up
                                             else round(magnitude)})

    def state(self, severity: float) -> list[ToxicState]:
        if severity == 0.0 and self.worse_up:
            return []
        level = self.state_level(severity)
        return [ToxicState(link=self.fault.link, type=self.fault.type, stream=self.fault.stream,
                           toxicity=self.fault.toxicity, attributes=level.attributes(), level=level.describe())]

    def _learn(self, record: StepRecord) -> None:
        verdict = record.slo.get(self.tier, Verdict.NO_DATA)
        report = record.tiers.get(self.tier)
        percentile = max(self.slo.bounds(), default=None)
        value = report.percentile_ms(percentile) if report is not None and percentile is not None else None
        severity = self._pending if self._pending is not None else 0.0
        self.windows.append(Window(step=record.index, magnitude=self.magnitude(severity), verdict=verdict,
                                   value_ms=value))
        if verdict == Verdict.PASS:
            self.holds, self._repeats = severity, 0
        elif verdict == Verdict.FAIL:
            self.breaks, self._repeats = severity, 0
        else:
            self._repeats += 1

    def _next(self) -> float | None:
        if not self.windows:
            return 1.0
        last = self._pending if self._pending is not None else 1.0
        if self._repeats:
            if self._repeats > MAX_REPEATS:
                return None
            return last  # inconclusive: measure the same magnitude again
        if self.holds == 1.0:
            self.outcome = "holds-everywhere"
            return None
        if self.holds is None:
            if self.breaks == 0.0:
                self.outcome = "breaks-without-fault"
                return None
            return 0.0
        if self.breaks is None:
            return None
        if self._width() <= self.tolerance:
            self.outcome = "found"
            return None
        return (self.holds + self.breaks) / 2

    def _width(self) -> float:
        assert self.holds is not None and self.breaks is not None
        return abs(self.magnitude(self.breaks) - self.magnitude(self.holds))

    def result(self) -> SearchResult:
        holds = self.magnitude(self.holds) if self.holds is not None else None
        breaks = self.magnitude(self.breaks) if self.breaks is not None else None
        point = (holds + breaks) / 2 if self.outcome == "found" and holds is not None and breaks is not None \
            else None
        return SearchResult(tier=self.tier, slo=self.slo.describe(), link=self.fault.link.value,
                            type=self.fault.type, field=self.field, users=self.users, tolerance=self.tolerance,
                            holds_at=holds, breaks_at=breaks,
                            breaking_point=round(point, 3) if point is not None else None,
                            outcome=self.outcome, windows=self.windows)


def fault_for(experiment: Experiment, tier: str) -> Fault:
    """The experiment's fault on the tier's own link that a search can move."""
    if tier not in experiment.slos:
        raise SpecError(f"--tier {tier}: the experiment has no SLO for it (known: {', '.join(experiment.slos)})")
    for fault in experiment.faults:
        if fault.link.value == tier and fault.type in MAGNITUDES:
            return fault
    raise SpecError(f"--tier {tier}: {experiment.name} has no latency or bandwidth fault on the {tier} link "
                    f"to search over")


def default_range(experiment: Experiment, fault: Fault) -> tuple[float, float]:
    """From no fault to twice the worst level asked (latency), or from the mildest rate down to 1 (bandwidth)."""
    field, worse_up = MAGNITUDES[fault.type]
    values = [float(getattr(level, field)) for level in fault.levels if level is not None]
    if worse_up:
        return 0.0, 2.0 * max(values, default=500.0)
    return 1.0, max(values, default=1000.0)


def windows_needed(low: float, high: float, tolerance: float) -> int:
    """Top, bottom, the halvings to the tolerance, and room for repeats."""
    halvings = max(1, math.ceil(math.log2(max(high - low, tolerance) / tolerance)))
    return 2 + halvings + 2 * MAX_REPEATS


def search_experiment(experiment: Experiment, search: BreakingPointSearch, window_s: float,
                      windows: int) -> Experiment:
    """The run a search steers: ``windows`` short steps at one load, faults chosen as it goes."""
    fault, users = search.fault, search.users
    ramp = experiment.ramp.model_copy(update={"users": [users] * windows, "step_s": window_s + SETTLE_S,
                                              "settle_s": SETTLE_S})
    # The plan carries the worst level at every window so the probes' pools are sized for it;
    # the search replaces each window's toxics with its own choice before the window starts.
    worst = fault.model_copy(update={"levels": (search.state_level(1.0),) * windows})
    return experiment.model_copy(update={"name": f"{experiment.name}-search"[:64], "ramp": ramp,
                                         "faults": [worst], "schedule": "per-step"})
