"""Whether a stop condition has held long enough, from the live snapshots (pure).

The load processes cut live snapshots a few seconds long at the same plan
times (``harness.contract.live_cut_after``); the runner hands each merged
snapshot here as it comes. Per condition, a breach begins at the start of
the first snapshot that passes the limit and lasts while each following one
does; the condition fires once a breach has lasted ``for_s`` (measured from
the snapshots' own edges, so the check is as fast as the snapshots allow and
never faster than the limit was really passed). A snapshot without samples
of the tier, or within the limit, ends the breach: nothing stops a run on a
guess.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.slo import TierResult
from harness.stop_conditions import StopCondition


class Reading(BaseModel):
    """One snapshot's value of a condition's measure, stamped with the snapshot's end (wall time)."""

    model_config = ConfigDict(frozen=True)

    at: float
    value: float


class StopFired(BaseModel):
    """Why a run stopped early: a stop condition that held, or a store that died (``on_store_crash: stop``)."""

    model_config = ConfigDict(frozen=True)

    kind: str = "stop-condition"  # or "store-crash"
    condition: str  # where it is written: "stop_when.1", "on_store_crash"
    description: str  # "materialize error ratio above 50% for 5 s"
    since: float  # wall time the breach (or the crash) began
    at: float  # wall time it fired
    held_s: float
    values: list[Reading] = []  # each snapshot's value during the breach
    shown_values: list[str] = []  # the same, in the condition's unit
    step: int | None = None  # the step running when it fired

    def sentence(self) -> str:
        values = f"; values {', '.join(self.shown_values)}" if self.shown_values else ""
        return f"{self.condition} ({self.description}) fired after {self.held_s:.1f} s{values}"


def measure_of(condition: StopCondition, result: TierResult | None) -> float | None:
    """The condition's measure in one snapshot; None when the snapshot holds no call of the tier."""
    if result is None:
        return None
    if condition.percentile is None:
        return result.error_ratio if result.attempts else None
    return result.percentile_ms(condition.percentile) if result.count else None


class StopTracker:
    """Follows every condition over the snapshots; reports the first to fire, once."""

    def __init__(self, conditions: list[StopCondition]) -> None:
        self.conditions = list(conditions)
        self._since: list[float | None] = [None] * len(self.conditions)
        self._readings: list[list[Reading]] = [[] for _ in self.conditions]
        self.fired: StopFired | None = None

    def observe(self, window: tuple[float, float], results: dict[str, TierResult]) -> StopFired | None:
        """One snapshot (its wall-time window, the faulted path's results per tier); a StopFired the first time."""
        if self.fired is not None:
            return None
        start, end = window
        for position, condition in enumerate(self.conditions):
            value = measure_of(condition, results.get(condition.tier))
            if value is None or not value > condition.limit:
                self._since[position], self._readings[position] = None, []
                continue
            if self._since[position] is None:
                self._since[position] = start
            since = self._since[position]
            self._readings[position].append(Reading(at=end, value=value))
            held_s = end - since
            if held_s >= condition.for_s and self.fired is None:  # two at once: the first written wins
                readings = self._readings[position]
                self.fired = StopFired(condition=f"stop_when.{position}", description=condition.describe(),
                                       since=since, at=end, held_s=round(held_s, 3), values=readings,
                                       shown_values=[condition.format_value(r.value) for r in readings])
        return self.fired


class StopRun(Exception):  # noqa: N818 - not an error: the experiment's own word to stop
    """Raised inside the run loop when a stop condition fires; the run ends ``aborted``."""

    def __init__(self, fired: StopFired) -> None:
        super().__init__(fired.sentence())
        self.fired = fired
