"""Locust's master and workers, wired for per-step HDR histograms (``locustfiles.messages`` says what travels).

The step shape runs on the master (Locust's rule); each worker records its
own samples into its own ``StepRecorder`` on the plan clock the master sent
it, and at each flush sends the step's line to the master, which merges the
lines exactly (``locustfiles.worker_merge``) and writes them as a single
process would. Viewers and HTTP users are spread over every worker
(``locustfiles.spread``, through Locust's ``dispatcher_class``);
``--enable-rebalancing`` (set by the harness) moves a lost worker's users to
the others, so the run goes on.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable

import gevent
from locust.env import Environment
from locust.rpc.protocol import Message
from locust.runners import STATE_INIT, STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner

from harness.contract import WORKER_NAME_ENV, StepLine
from locustfiles.loadplan import PlanClock
from locustfiles.messages import (
    LIVE_MESSAGE,
    PLAN_MESSAGE,
    PLAN_REQUEST,
    STEP_MESSAGE,
    PlanRequest,
    WorkerPlan,
    decode_line,
    decode_plan,
    encode_line,
    encode_plan,
)
from locustfiles.outputs import LineOutput
from locustfiles.recorder import StepRecorder
from locustfiles.spread import SpreadDispatcher
from locustfiles.worker_merge import WorkerId, WorkerMerge

logger = logging.getLogger(__name__)
CONNECTED_STATES = (STATE_INIT, STATE_SPAWNING, STATE_RUNNING)


class MasterSide:
    """Sends the plan to each worker, takes their lines in, writes the merged ones through ``output``."""

    def __init__(self, environment: Environment, runner: MasterRunner, clock: PlanClock,
                 worker_plan: Callable[[], WorkerPlan], output: LineOutput) -> None:
        self.environment = environment
        self.runner = runner
        self.clock = clock
        self.worker_plan = worker_plan
        self.output = output
        self.merge = WorkerMerge(worker_plan().plan)
        self._sent_t0: float | None = None
        self._names: dict[str, str] = {}  # client id → the name the worker goes by
        runner.register_message(PLAN_REQUEST, self._on_plan_request)
        runner.register_message(STEP_MESSAGE, self._on_step)
        runner.register_message(LIVE_MESSAGE, self._on_live)
        # Viewers and HTTP users spread over every worker, not one class per worker.
        environment.dispatcher_class = SpreadDispatcher
        # A headless shape run blocks Locust's main before it installs its own SIGTERM handler, so
        # SIGTERM (the engine stopping the run, `docker compose down`) would kill the master without a
        # word to its workers; workers elsewhere would wait a minute for heartbeats to time out.
        if environment.parsed_options is not None and environment.parsed_options.headless:
            gevent.signal_handler(signal.SIGTERM, self._terminated)

    def _terminated(self) -> None:
        """Tell every worker to quit, then die of SIGTERM as before."""
        for client_id in list(self.runner.clients):
            try:
                self.runner.send_message("quit", client_id=client_id)
            except Exception as exc:  # noqa: BLE001 - Locust's RPC errors: nothing more to tell that worker
                logger.error("could not tell %s to quit: %s", client_id, exc)
        gevent.sleep(0.2)  # the messages leave before the process does
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    def own_output(self) -> LineOutput:
        """Where the master's own recorder writes: into the merge (probes of a plain run; nothing else)."""
        return _IntoMerge(self.merge)

    def _worker(self, client_id: str) -> WorkerId:
        # Locust's client id is "<hostname>_<uuid hex>"; its index is stable per client id.
        return WorkerId(client_id=client_id, index=self.runner.get_worker_index(client_id),
                        host=client_id.rsplit("_", 1)[0], name=self._names.get(client_id, ""))

    def _on_plan_request(self, msg: Message, **_: object) -> None:
        self._names[msg.node_id] = PlanRequest.model_validate(msg.data or {}).name
        self.runner.send_message(PLAN_MESSAGE, encode_plan(self.worker_plan()), client_id=msg.node_id)

    def _on_step(self, msg: Message, **_: object) -> None:
        line = decode_line(msg.data)
        self.merge.add_line(self._worker(msg.node_id), line)

    def _on_live(self, msg: Message, **_: object) -> None:
        self.merge.add_live(self._worker(msg.node_id), decode_line(msg.data))

    def tick(self) -> None:
        t0 = self.clock.t0()
        if t0 is not None and t0 != self._sent_t0:
            # Workers connected before the clock started learn t0 now; later ones get it on connecting.
            self._sent_t0 = t0
            self.runner.send_message(PLAN_MESSAGE, encode_plan(self.worker_plan()))
        connected = {client_id: node for client_id, node in self.runner.clients.items()
                     if node.state in CONNECTED_STATES}
        elapsed = self.clock.elapsed()
        self.merge.present(elapsed, {c: self._worker(c) for c in connected},
                           {c: node.user_count for c, node in connected.items()})
        for line in self.merge.due(elapsed, set(connected)):
            lost = [share.label() for share in line.workers if share.lost]
            if lost:
                logger.warning("step %d: no line from %s (lost during the step)", line.index, ", ".join(lost))
            self.output.step(line)
        live = self.merge.live_due(time.time(), set(connected))
        if live is not None:
            self.output.live(live)


class _IntoMerge:
    def __init__(self, merge: WorkerMerge) -> None:
        self.merge = merge

    def step(self, line: StepLine) -> None:
        self.merge.add_own(line)

    def live(self, line: StepLine) -> None:
        self.merge.add_own_live(line)


class WorkerSide:
    """Takes the plan and t0 from the master; its recorder's lines go to the master."""

    def __init__(self, runner: WorkerRunner, recorder: StepRecorder, clock: PlanClock,
                 on_plan: Callable[[WorkerPlan], None]) -> None:
        self.runner = runner
        self.recorder = recorder
        self.clock = clock
        self.on_plan = on_plan
        self.plan: WorkerPlan | None = None
        runner.register_message(PLAN_MESSAGE, self._on_plan)
        runner.send_message(PLAN_REQUEST, PlanRequest(name=os.environ.get(WORKER_NAME_ENV, "")).model_dump())

    def _on_plan(self, msg: Message, **_: object) -> None:
        plan = decode_plan(msg.data)
        self.recorder.use_plan(plan.plan)
        if plan.t0 is not None:
            self.clock.set_t0(plan.t0)
        self.plan = plan
        self.on_plan(plan)


class ToMaster:
    """A worker recorder's output: each line as a message to the master."""

    def __init__(self, runner: WorkerRunner) -> None:
        self.runner = runner

    def step(self, line: StepLine) -> None:
        self._send(STEP_MESSAGE, line)

    def live(self, line: StepLine) -> None:
        self._send(LIVE_MESSAGE, line)

    def _send(self, kind: str, line: StepLine) -> None:
        try:
            self.runner.send_message(kind, encode_line(line))
        except Exception as exc:  # noqa: BLE001 - Locust's RPC errors: the master names this worker lost
            logger.error("could not send %s of step %d to the master: %s", kind, line.index, exc)


def this_host() -> str:
    return socket.gethostname()
