"""Recovery time and fault surfaces: what the phases and matrix schedules add to a run's results (pure).

Recovery is read from the recovery slices that follow a fault step: a tier
has recovered at the end of the first slice from which every later slice
holds its SLO. Slices are short (``phases.slice_s``), so "holds" is the
point value against the bound (every latency bound, the error ratio, at
least one sample), not the confidence verdict a short slice could rarely
reach; the resolution is the slice's length.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.record import StepRecord
from harness.slo import TierResult, Verdict, point_holds
from harness.spec import TierSlo


class TierRecovery(BaseModel):
    model_config = ConfigDict(frozen=True)

    broke: bool  # the SLO failed (or every call failed) while the fault was on
    recovery_s: float | None  # from the fault's removal until it held again; None = not within the watch
    resolution_s: float


class Recovery(BaseModel):
    """One fault phase at one user count, and how each tier came back."""

    model_config = ConfigDict(frozen=True)

    users: int
    fault_step: int
    fault: list[str]
    watched_s: float
    tiers: dict[str, TierRecovery]


class Cell(BaseModel):
    """One cell of a matrix: a user count × a fault level."""

    model_config = ConfigDict(frozen=True)

    users: int
    level: int
    step: int
    toxics: list[str]
    tiers: dict[str, dict[str, float | str | None]]


def holds(slo: TierSlo, result: TierResult | None) -> bool:
    """A slice holds when its point values are within every bound, with at least one sample."""
    return bool(point_holds(slo, result)) and result is not None and result.count > 0


def recoveries(steps: list[StepRecord], slos: dict[str, TierSlo]) -> list[Recovery]:
    found = []
    for position, step in enumerate(steps):
        if step.phase != "fault":
            continue
        slices = []
        for later in steps[position + 1:]:
            if later.phase != "recovery":
                break
            slices.append(later)
        if not slices or slices[0].window is None:
            continue
        removed_at = slices[0].window[0]
        tiers = {}
        for tier, slo in slos.items():
            broke = step.slo.get(tier) == Verdict.FAIL or not holds(slo, step.tiers.get(tier))
            tiers[tier] = TierRecovery(broke=broke, recovery_s=_recovered_after(tier, slo, slices, removed_at),
                                       resolution_s=_length(slices[0]))
        watched = (slices[-1].window[1] - removed_at) if slices[-1].window else 0.0
        found.append(Recovery(users=step.users, fault_step=step.index, fault=[t.describe() for t in step.toxics],
                              watched_s=round(watched, 3), tiers=tiers))
    return found


def _recovered_after(tier: str, slo: TierSlo, slices: list[StepRecord], removed_at: float) -> float | None:
    held_from = None
    for item in slices:
        if holds(slo, item.tiers.get(tier)):
            held_from = held_from or item
        else:
            held_from = None
    if held_from is None or held_from.window is None:
        return None
    return round(held_from.window[1] - removed_at, 3)


def _length(step: StepRecord) -> float:
    return round(step.window[1] - step.window[0], 3) if step.window else 0.0


def surface(steps: list[StepRecord]) -> list[Cell]:
    """The matrix as cells (users × level), each tier's percentiles and verdict."""
    cells = []
    for step in steps:
        if step.level is None:
            continue
        tiers: dict[str, dict[str, float | str | None]] = {}
        for tier, result in step.tiers.items():
            verdict = step.slo.get(tier)
            tiers[tier] = {"p50_ms": result.p50_ms, "p95_ms": result.p95_ms, "p99_ms": result.p99_ms,
                           "added_p50_ms": result.added_ms.p50 if result.added_ms else None,
                           "verdict": verdict.value if verdict else None}
        cells.append(Cell(users=step.users, level=step.level, step=step.index,
                          toxics=[t.describe() for t in step.toxics], tiers=tiers))
    return cells
