"""The step ramp as a Locust LoadTestShape, following the engine's plan clock."""

from __future__ import annotations

from locust import LoadTestShape

from harness.plan import Plan, step_at
from locustfiles.loadplan import PlanClock


class StepRampShape(LoadTestShape):
    """Users of the step running now; the first step's users while waiting for t0.

    Before the engine sets t0 the shape already starts the first step's users
    (a warm-up nobody measures). After the last step it keeps the users until
    the last record is flushed, then returns None, which stops the test
    (unless ``stop_at_end`` is off).
    """

    abstract = True  # the locustfile subclasses it with its plan and clock
    plan: Plan
    clock: PlanClock
    # Under the engine the shape never ends the test: the engine stops Locust
    # once it holds the last step's record, so Locust cannot exit under it.
    stop_at_end: bool = True

    def tick(self) -> tuple[int, float] | None:
        plan, clock = type(self).plan, type(self).clock
        elapsed = clock.elapsed()
        first = plan.steps[0]
        if elapsed is None:
            return first.users, first.spawn_rate
        if elapsed >= plan.duration_s and type(self).stop_at_end:
            return None
        step = step_at(plan, elapsed) or plan.steps[-1]
        return step.users, step.spawn_rate
