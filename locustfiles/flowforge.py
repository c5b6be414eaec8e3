"""The FlowForge locustfile: ``locust -f locustfiles/flowforge.py --host http://127.0.0.1:PORT``.

Run by the harness it follows the engine's load plan (FLOWFORGE_LOAD_PLAN):
the step-ramp shape, the plan clock, the datastore probes and the per-step
recorder. Run by hand it uses the default ramp (5 → 10 → 25 → 50 → 100
users, 60 s each), probes only the stores named by FF_* variables, and sends
WebSocket viewers to ``--host`` (http → ws) unless FF_WEBSOCKET_URL names
another address.

Distributed (``--master`` / ``--worker``, as ``harness run --workers N`` and
compose/load.yaml run it): the shape runs on the master; workers take the plan
and its clock from the master and send their per-step lines back over
Locust's messages (``locustfiles.distributed``); the master merges them and
writes steps.jsonl (under the harness) or FF_RECORDS_FILE (plain runs).
FF_VIEWER_WEIGHT (default 1) weighs viewers against HTTP users (weight 1):
5 makes 600 users 500 viewers and 100 HTTP users.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import gevent
from locust import events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from harness.contract import load_from_env
from harness.targets_policy import check_loopback, remote_allowed
from locustfiles import users
from locustfiles.distributed import MasterSide, ToMaster, WorkerSide, this_host
from locustfiles.hooks import with_hooks
from locustfiles.loadplan import DEFAULT_PROBES, PlanClock, default_plan, targets_from_env
from locustfiles.messages import WorkerPlan
from locustfiles.outputs import FileOutput, LineOutput, NoOutput, WithShare
from locustfiles.probes import probes_for
from locustfiles.recorder import StepRecorder
from locustfiles.shape import StepRampShape

LOAD = load_from_env()
PLAN = LOAD.plan if LOAD else default_plan()
CLOCK = PlanClock(LOAD.clock_path if LOAD else None)
HOST = LOAD.targets.backend if LOAD else os.environ.get("FF_BACKEND_URL", "http://127.0.0.1:8000")


class FlowForgeRamp(StepRampShape):
    plan = PLAN
    clock = CLOCK
    stop_at_end = LOAD is None


class WidgetUser(users.WidgetUser):
    host = HOST


TARGETS = LOAD.targets if LOAD else targets_from_env(HOST)


def _viewer_weight() -> int:
    text = os.environ.get("FF_VIEWER_WEIGHT", "1")
    try:
        weight = int(text)
    except ValueError:
        weight = 0
    if weight < 1:
        sys.exit(f"FF_VIEWER_WEIGHT must be a whole number of at least 1, got {text!r}")
    return weight


class DashboardViewer(users.DashboardViewer):
    websocket_url = TARGETS.websocket_url or ""
    control_url = TARGETS.websocket_control_url or ""
    control_share = LOAD.viewer_control_share if LOAD else 0.5
    # Only the master's (or the single process's) weights count: Locust's dispatcher runs there.
    weight = _viewer_weight()


# The project's hooks (harness.hooks): auth headers on these users, or its own users in their place.
globals().update(with_hooks(LOAD.hooks if LOAD else None, HOST, [WidgetUser, DashboardViewer]))


def _records_output() -> LineOutput:
    """Where the merged per-step lines go: the run's steps.jsonl, FF_RECORDS_FILE in a plain run, or nowhere."""
    if LOAD is not None:
        return FileOutput(LOAD.records_path)
    named = os.environ.get("FF_RECORDS_FILE")
    if not named:
        return NoOutput()
    Path(named).parent.mkdir(parents=True, exist_ok=True)
    return FileOutput(Path(named))


def _worker_plan() -> WorkerPlan:
    return WorkerPlan(plan=PLAN, t0=CLOCK.t0(), websocket_url=DashboardViewer.websocket_url or None,
                      websocket_control_url=DashboardViewer.control_url or None,
                      viewer_control_share=DashboardViewer.control_share)


def _use_worker_plan(plan: WorkerPlan) -> None:
    """A worker's viewers go where the master says, unless this machine names its own addresses (FF_*)."""
    DashboardViewer.websocket_url = os.environ.get("FF_WEBSOCKET_URL") or plan.websocket_url or ""
    DashboardViewer.control_url = os.environ.get("FF_WEBSOCKET_CONTROL_URL") or plan.websocket_control_url or ""
    DashboardViewer.control_share = plan.viewer_control_share


@events.init.add_listener
def _wire(environment: Environment, **_: object) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        _wire_worker(environment, runner)
        return
    master = None
    if isinstance(runner, MasterRunner):
        master = MasterSide(environment, runner, CLOCK, _worker_plan, _records_output())
        recorder = StepRecorder(PLAN, CLOCK, output=master.own_output())
    else:
        recorder = StepRecorder(PLAN, CLOCK, output=WithShare(_records_output(), this_host()))
    environment.events.request.add_listener(recorder.on_request)

    @environment.events.test_start.add_listener
    def _started(**_: object) -> None:
        if LOAD is None and not _target_allowed(environment):
            return
        if LOAD is None and not os.environ.get("FF_WEBSOCKET_URL"):
            # --host (or the web UI's host field) is only known now.
            DashboardViewer.websocket_url = targets_from_env(environment.host or HOST).websocket_url or ""
        if LOAD is None:
            # On its own, this process probes too; under the harness the
            # probe process does (see locustfiles.probes for why).
            CLOCK.start_now()
            stop = threading.Event()
            environment.events.test_stop.add_listener(lambda **_: stop.set())
            targets = targets_from_env(environment.host or HOST)
            for probe in probes_for(targets, DEFAULT_PROBES):
                gevent.spawn(probe.run, environment.events.request.fire, stop)
        gevent.spawn(_tick, environment, recorder, master)
        if LOAD is not None:
            LOAD.ready_path.touch()


def _wire_worker(environment: Environment, runner: WorkerRunner) -> None:
    """A worker records on the master's plan and clock, and sends its lines to the master."""
    recorder = StepRecorder(PLAN, PlanClock(None), output=ToMaster(runner))
    worker = WorkerSide(runner, recorder, recorder.clock, _use_worker_plan)
    environment.events.request.add_listener(recorder.on_request)

    @environment.events.test_start.add_listener
    def _started(**_: object) -> None:
        if worker.plan is None and not os.environ.get("FF_WEBSOCKET_URL"):
            DashboardViewer.websocket_url = targets_from_env(environment.host or HOST).websocket_url or ""
        _target_allowed(environment, [DashboardViewer.websocket_url, DashboardViewer.control_url])

    gevent.spawn(_tick, environment, recorder, None)


def _target_allowed(environment: Environment, also: list[str] | None = None) -> bool:
    """On its own, this locustfile loads only loopback addresses unless FF_ALLOW_REMOTE_TARGET=1 (as the engine)."""
    targets = targets_from_env(environment.host or HOST)
    addresses = [targets.backend, targets.websocket_url, targets.redis_url, targets.materialize_dsn,
                 targets.clickhouse_url, *(also or [])]
    refusals = [refusal for address in addresses if address and (refusal := check_loopback(address))]
    if not refusals:
        return True
    if remote_allowed(os.environ):
        logging.warning("FF_ALLOW_REMOTE_TARGET=1: sending load to a non-loopback target (%s)", refusals[0])
        return True
    logging.error("%s", refusals[0])
    environment.process_exit_code = 2
    if environment.runner is not None:
        gevent.spawn_later(0, environment.runner.quit)
    return False


def _tick(environment: Environment, recorder: StepRecorder, master: MasterSide | None) -> None:
    while True:
        runner = environment.runner
        # A master runs no users itself: its workers' lines carry theirs.
        recorder.tick(runner.user_count if runner and master is None else 0)
        if master is not None:
            master.tick()
        gevent.sleep(0.1)
