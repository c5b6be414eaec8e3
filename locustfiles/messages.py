"""What Locust's master and workers tell each other beyond Locust's own messages.

They travel as Locust's custom messages (``runner.send_message`` /
``runner.register_message``: msgpack over Locust's ZeroMQ link), never as
files, so a worker on another machine needs no shared disk:

- ``flowforge_plan_request`` worker → master, once the worker is connected
  and its handlers are in place (a message sent on connecting would come
  before the worker listens for it), with the name the worker goes by
  (``PlanRequest``: the harness's process name, so a lost worker's flag and
  the console's note name the same process).
- ``flowforge_plan`` master → worker, in answer and again once the plan
  clock starts: the load plan, t0 and where viewers connect
  (``WorkerPlan``). A worker records nothing before it has t0.
- ``flowforge_step`` worker → master, at each step's flush time: the
  worker's ``StepLine`` of that step (HDR histograms in HDR's own compressed
  encoding, so the master's merge is exact).
- ``flowforge_live`` worker → master, at each shared live cut: the worker's
  live snapshot.

Payloads are the models' JSON dumps (plain dicts msgpack carries as they are).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.contract import StepLine
from harness.plan import Plan

PLAN_REQUEST = "flowforge_plan_request"
PLAN_MESSAGE = "flowforge_plan"
STEP_MESSAGE = "flowforge_step"
LIVE_MESSAGE = "flowforge_live"


class PlanRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = ""


class WorkerPlan(BaseModel):
    """What a worker needs from the master to record as the master does: no credentials in it."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    t0: float | None = None
    websocket_url: str | None = None
    websocket_control_url: str | None = None
    viewer_control_share: float = 0.5


def encode_line(line: StepLine) -> dict[str, Any]:
    return line.model_dump(mode="json", exclude_defaults=True)


def decode_line(data: Any) -> StepLine:
    return StepLine.model_validate(data)


def encode_plan(plan: WorkerPlan) -> dict[str, Any]:
    return plan.model_dump(mode="json")


def decode_plan(data: Any) -> WorkerPlan:
    return WorkerPlan.model_validate(data)
