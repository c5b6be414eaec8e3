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


def build_plan(experiment: Experiment) -> Plan:
    ramp = experiment.ramp
    grace_s = max(0.5, min(ramp.settle_s, MAX_FLUSH_GRACE_S))
    steps = []
    for position, users in enumerate(ramp.users):
        start_s = position * ramp.step_s
        end_s = start_s + ramp.step_s
        steps.append(
            Step(
                index=position + 1,
                users=users,
                spawn_rate=ramp.spawn_rate,
                start_s=start_s,
                window_start_s=start_s + ramp.settle_s,
                end_s=end_s,
                flush_s=end_s + grace_s,
                toxics=_toxics(experiment, position),
            )
        )
    return Plan(experiment=experiment.name, steps=steps)


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
