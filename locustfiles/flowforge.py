"""The FlowForge locustfile: ``locust -f locustfiles/flowforge.py --host http://127.0.0.1:PORT``.

Run by the harness it follows the engine's load plan (FLOWFORGE_LOAD_PLAN):
the step-ramp shape, the plan clock, the datastore probes and the per-step
recorder. Run by hand it uses the default ramp (5 → 10 → 25 → 50 → 100
users, 60 s each), probes only the stores named by FF_* variables, and sends
WebSocket viewers to ``--host`` (http → ws) unless FF_WEBSOCKET_URL names
another address.
"""

from __future__ import annotations

import logging
import os
import threading

import gevent
from locust import events
from locust.env import Environment
from locust.runners import WorkerRunner

from harness.contract import load_from_env
from harness.targets_policy import check_loopback, remote_allowed
from locustfiles import users
from locustfiles.loadplan import DEFAULT_PROBES, PlanClock, default_plan, targets_from_env
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


class DashboardViewer(users.DashboardViewer):
    websocket_url = TARGETS.websocket_url or ""
    control_url = TARGETS.websocket_control_url or ""
    control_share = LOAD.viewer_control_share if LOAD else 0.5


@events.init.add_listener
def _wire(environment: Environment, **_: object) -> None:
    recorder = StepRecorder(PLAN, CLOCK, LOAD.records_path if LOAD else None)
    environment.events.request.add_listener(recorder.on_request)

    @environment.events.test_start.add_listener
    def _started(**_: object) -> None:
        if LOAD is None and not _target_allowed(environment):
            return
        if LOAD is None and not os.environ.get("FF_WEBSOCKET_URL"):
            # --host (or the web UI's host field) is only known now, on every node, workers too.
            DashboardViewer.websocket_url = targets_from_env(environment.host or HOST).websocket_url or ""
        if isinstance(environment.runner, WorkerRunner):
            return
        if LOAD is None:
            # On its own, this process probes too; under the harness the
            # probe process does (see locustfiles.probes for why).
            CLOCK.start_now()
            stop = threading.Event()
            environment.events.test_stop.add_listener(lambda **_: stop.set())
            targets = targets_from_env(environment.host or HOST)
            for probe in probes_for(targets, DEFAULT_PROBES):
                gevent.spawn(probe.run, environment.events.request.fire, stop)
        gevent.spawn(_tick, environment, recorder)
        if LOAD is not None:
            LOAD.ready_path.touch()


def _target_allowed(environment: Environment) -> bool:
    """On its own, this locustfile loads only loopback addresses unless FF_ALLOW_REMOTE_TARGET=1 (as the engine)."""
    targets = targets_from_env(environment.host or HOST)
    addresses = [targets.backend, targets.websocket_url, targets.redis_url, targets.materialize_dsn,
                 targets.clickhouse_url]
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


def _tick(environment: Environment, recorder: StepRecorder) -> None:
    while True:
        runner = environment.runner
        recorder.tick(runner.user_count if runner else 0)
        gevent.sleep(0.1)
