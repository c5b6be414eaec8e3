"""The same user as static_plain.py, with the harness's per-step recorder attached.

Wired exactly as locustfiles/flowforge.py wires it: ``StepRecorder(plan,
clock, out_path)``, ``on_request`` as a request listener, a greenlet calling
``tick(user_count)`` every 0.1 s, the plan clock started when the test
starts. The plan is the default five-step ramp stretched so its measurement
windows cover the whole run: every request is recorded, as in a measured step.
"""

from __future__ import annotations

import os
from pathlib import Path

import gevent
from locust import events
from locust.env import Environment

from harness.plan import Plan, Step
from locustfiles.bench.static_plain import StaticUser  # noqa: F401 - the user Locust runs
from locustfiles.loadplan import PlanClock
from locustfiles.recorder import StepRecorder

STEPS = 5
SECONDS = float(os.environ.get("FF_BENCH_SECONDS", "60"))
RECORDS = os.environ.get("FF_BENCH_RECORDS")


def covering_plan(seconds: float, users: int) -> Plan:
    """STEPS back-to-back steps with no settle time, together longer than ``seconds``."""
    step_s = (seconds + 30.0) / STEPS  # margin: start-up and Locust's own stop
    steps = [Step(index=k + 1, users=users, spawn_rate=float(users), start_s=k * step_s,
                  window_start_s=k * step_s, end_s=(k + 1) * step_s, flush_s=(k + 1) * step_s + 3.0,
                  toxics=[])
             for k in range(STEPS)]
    return Plan(experiment="bench-generator-ratio", steps=steps)


PLAN = covering_plan(SECONDS, int(os.environ.get("FF_BENCH_USERS", "10")))
CLOCK = PlanClock(None)


@events.init.add_listener
def _wire(environment: Environment, **_: object) -> None:
    recorder = StepRecorder(PLAN, CLOCK, Path(RECORDS) if RECORDS else None)
    environment.events.request.add_listener(recorder.on_request)

    @environment.events.test_start.add_listener
    def _started(**_: object) -> None:
        CLOCK.start_now()
        gevent.spawn(_tick, environment, recorder)


def _tick(environment: Environment, recorder: StepRecorder) -> None:
    while True:
        runner = environment.runner
        recorder.tick(runner.user_count if runner else 0)
        gevent.sleep(0.1)
