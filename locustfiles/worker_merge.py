"""On Locust's master: the workers' per-step lines and live snapshots, merged exactly, lost workers named.

Pure bookkeeping (no Locust import), driven by ``locustfiles.distributed``:

- ``present`` is called a few times a second with the workers connected
  now; a worker connected at any moment of a step's window takes part in
  that step, so its line is awaited.
- A step's merged line is due at its flush time, once every worker taking
  part has sent its line or is gone (Locust no longer counts it: missing
  heartbeats, quit), and at the latest ``grace_s`` later. A worker that took
  part and sent nothing is named ``lost``: its samples of the step are
  missing, and the step says so.
- Live snapshots are cut by every process at the same plan times
  (``harness.contract.live_cut_after``); the master merges the snapshots of
  one cut once every connected worker sent it (or ``grace_s`` after the cut).

The master's own recorder (probes in a plain ``locust -f`` run; nothing under
the harness, where probes have their own processes) goes into each merge too.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.contract import StepLine, WorkerShare, merge_lines, share_of
from harness.plan import Plan

# Workers flush at the same plan time as the master; their lines cross a
# socket. Long enough for a busy worker's line to arrive, short enough that
# the engine (RECORD_TIMEOUT_S after the flush) still gets the step's line.
WORKER_GRACE_S = 5.0


@dataclass(frozen=True)
class WorkerId:
    """A worker as the master knows it: Locust's client id, its index and its host."""

    client_id: str
    index: int
    host: str
    name: str = ""


class WorkerMerge:
    def __init__(self, plan: Plan, grace_s: float = WORKER_GRACE_S) -> None:
        self.plan = plan
        self.grace_s = grace_s
        self._taking_part: dict[int, dict[str, WorkerId]] = {}
        self._lines: dict[int, dict[str, StepLine]] = {}
        self._own: dict[int, StepLine] = {}
        self._written: set[int] = set()
        self._users: dict[str, int] = {}  # last users seen per worker (for one that is lost)
        self._live: dict[float, dict[str, StepLine]] = {}  # cut (plan time) → worker → snapshot
        self._own_live: dict[float, StepLine] = {}
        self._t0: float | None = None

    def use_plan(self, plan: Plan) -> None:
        self.plan = plan

    def present(self, elapsed_s: float | None, workers: dict[str, WorkerId], users: dict[str, int]) -> None:
        """The workers connected now (by client id) and the users each runs."""
        self._users.update(users)
        if elapsed_s is None:
            return
        for step in self.plan.steps:
            if step.window_start_s <= elapsed_s < step.end_s and step.index not in self._written:
                self._taking_part.setdefault(step.index, {}).update(workers)

    def add_line(self, worker: WorkerId, line: StepLine) -> None:
        if line.index in self._written:
            return  # came after the merge was written: the step already names this worker lost
        self._lines.setdefault(line.index, {})[worker.client_id] = line
        # A worker that joined after the window's last ``present`` still measured part of it.
        self._taking_part.setdefault(line.index, {})[worker.client_id] = worker

    def add_own(self, line: StepLine) -> None:
        self._own[line.index] = line

    def due(self, elapsed_s: float | None, connected: set[str]) -> list[StepLine]:
        """Merged lines of the steps whose flush came and whose workers all answered (or the grace ran out)."""
        if elapsed_s is None:
            return []
        merged = []
        for step in self.plan.steps:
            own = self._own.get(step.index)
            if step.index in self._written or own is None or elapsed_s < step.flush_s:
                continue
            taking_part = self._taking_part.get(step.index, {})
            lines = self._lines.get(step.index, {})
            waiting = [c for c in taking_part if c not in lines and c in connected]
            if waiting and elapsed_s < step.flush_s + self.grace_s:
                continue
            merged.append(self._merge(own, taking_part, lines))
            self._written.add(step.index)
            self._taking_part.pop(step.index, None)
            self._lines.pop(step.index, None)
            self._own.pop(step.index, None)
        return merged

    def _merge(self, own: StepLine, taking_part: dict[str, WorkerId], lines: dict[str, StepLine]) -> StepLine:
        shares = []
        for client_id, worker in sorted(taking_part.items(), key=lambda item: item[1].index):
            line = lines.get(client_id)
            if line is None:
                shares.append(WorkerShare(worker=worker.index, host=worker.host, name=worker.name,
                                          users=self._users.get(client_id), lost=True))
            else:
                shares.append(share_of(line, worker.index, worker.host, worker.name))
        merged = merge_lines([own, *lines.values()])
        # One source for the engine (this master's file), standing for all its workers.
        return merged.model_copy(update={"sources": 1, "workers": shares, "index": own.index,
                                         "window": own.window})

    def add_live(self, worker: WorkerId, line: StepLine) -> None:
        if line.window is not None:
            self._live.setdefault(line.window[1], {})[worker.client_id] = line

    def add_own_live(self, line: StepLine) -> None:
        if line.window is not None:
            self._own_live[line.window[1]] = line

    def live_due(self, now: float, connected: set[str]) -> StepLine | None:
        """The newest cut every connected worker has sent (or whose grace ran out), merged; older cuts dropped."""
        ready = None
        for cut in sorted(self._own_live):
            parts = self._live.get(cut, {})
            if all(c in parts for c in connected) or now >= cut + self.grace_s:
                ready = cut
        if ready is None:
            return None
        own = self._own_live[ready]
        parts = list(self._live.get(ready, {}).values())
        for cut in [c for c in self._own_live if c <= ready]:
            self._own_live.pop(cut)
        for cut in [c for c in self._live if c <= ready]:
            self._live.pop(cut)
        merged = merge_lines([own, *parts])
        return merged.model_copy(update={"sources": 1, "index": 0, "window": own.window})
