"""The plan: an experiment as an ordered list of timed steps (pure, no I/O).

All times are seconds from the plan clock's zero (t0), which the runner sets
once the load generator is ready. Within a step:

    start_s ── toxics applied ── window_start_s ── measured ── end_s ── flush_s
              (settle: load and faults take effect)          (late replies land)

A sample belongs to the step whose measurement window holds its start time.
The load generator writes a step's record at ``flush_s``, which falls inside
the next step's settle time, so step k is on disk before step k+1 measures.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict

from harness.errors import SpecError
from harness.spec import Experiment
from toxics.errors import FaultPlanError
from toxics.schedule import ToxicState, toxics_for_step

MAX_FLUSH_GRACE_S = 3.0


class Step(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int  # 1-based, as people count steps
    users: int
    spawn_rate: float
    start_s: float
    window_start_s: float
    end_s: float
    flush_s: float
    toxics: list[ToxicState]
    phase: str | None = None  # phases schedule: "before", "fault" or "recovery"
    level: int | None = None  # matrix schedule: 0 = no fault, k = every fault's k-th level

    @property
    def window_s(self) -> float:
        return self.end_s - self.window_start_s


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    experiment: str
    steps: list[Step]

    @property
    def duration_s(self) -> float:
        return self.steps[-1].flush_s if self.steps else 0.0


class StepShape(BaseModel):
    """One step before it is placed on the clock: what it runs and how long."""

    model_config = ConfigDict(frozen=True)

    users: int
    length_s: float
    settle_s: float
    toxics: list[ToxicState]
    phase: str | None = None
    level: int | None = None


def build_plan(experiment: Experiment) -> Plan:
    shapes = {"per-step": _per_step, "matrix": _matrix, "phases": _phases}[experiment.schedule](experiment)
    ramp = experiment.ramp
    steps, start_s = [], 0.0
    for position, shape in enumerate(shapes):
        # Step k's record is written at end + grace, inside step k+1's settling;
        # a recovery slice has no settling, so its grace stays short.
        grace_s = max(0.5, min(ramp.settle_s, MAX_FLUSH_GRACE_S))
        end_s = start_s + shape.length_s
        steps.append(Step(index=position + 1, users=shape.users, spawn_rate=ramp.spawn_rate, start_s=start_s,
                          window_start_s=start_s + shape.settle_s, end_s=end_s, flush_s=end_s + grace_s,
                          toxics=shape.toxics, phase=shape.phase, level=shape.level))
        start_s = end_s
    return Plan(experiment=experiment.name, steps=steps)


def _per_step(experiment: Experiment) -> list[StepShape]:
    ramp = experiment.ramp
    return [StepShape(users=users, length_s=ramp.step_s, settle_s=ramp.settle_s,
                      toxics=_toxics(experiment, position)) for position, users in enumerate(ramp.users)]


def _matrix(experiment: Experiment) -> list[StepShape]:
    """Every level at every user count, the no-fault level first as each row's zero point."""
    ramp = experiment.ramp
    levels = min((len(fault.levels) for fault in experiment.faults), default=0)
    return [StepShape(users=users, length_s=ramp.step_s, settle_s=ramp.settle_s, level=level,
                      toxics=_toxics(experiment, level - 1) if level else [])
            for users in ramp.users for level in range(levels + 1)]


def _phases(experiment: Experiment) -> list[StepShape]:
    """Per user count: before (no fault), the fault, then recovery in slices with no settling."""
    ramp, phases = experiment.ramp, experiment.phases
    slices = max(1, math.ceil(phases.recovery_s / phases.slice_s - 1e-9))
    shapes = []
    for users in ramp.users:
        shapes.append(StepShape(users=users, length_s=phases.before_s, settle_s=ramp.settle_s, toxics=[],
                                phase="before"))
        shapes.append(StepShape(users=users, length_s=phases.fault_s, settle_s=ramp.settle_s,
                                toxics=_toxics(experiment, 0), phase="fault"))
        shapes += [StepShape(users=users, length_s=phases.slice_s, settle_s=0.0, toxics=[], phase="recovery")
                   for _ in range(slices)]
    return shapes


def step_at(plan: Plan, elapsed_s: float) -> Step | None:
    """The step running at ``elapsed_s`` on the plan clock, or None outside the plan."""
    for step in plan.steps:
        if step.start_s <= elapsed_s < step.end_s:
            return step
    return None


def step_for_sample(plan: Plan, elapsed_s: float) -> Step | None:
    """The step whose measurement window holds a sample started at ``elapsed_s``."""
    for step in plan.steps:
        if step.window_start_s <= elapsed_s < step.end_s:
            return step
    return None


def _toxics(experiment: Experiment, position: int) -> list[ToxicState]:
    try:
        return toxics_for_step(experiment.faults, position)
    except FaultPlanError as exc:
        raise SpecError(str(exc)) from exc
