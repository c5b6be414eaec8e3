"""Per-step lines of Locust workers → the master's merged line (locustfiles.worker_merge, locustfiles.messages).

The histograms go the way they go in a distributed run: each worker's
recorder cuts its line, the line is encoded as the message payload and
packed with msgpack (what Locust's RPC does with a message's data), the
master unpacks, decodes and merges. The merge must equal the histogram of
all raw samples: every count in every bucket.
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import msgpack
import pytest

from harness.contract import StepLine, TierSeries, write_clock
from harness.histogram import decode, new_histogram, record_ms, summarize
from harness.plan import Plan, Step
from locustfiles.loadplan import PlanClock
from locustfiles.messages import WorkerPlan, decode_line, decode_plan, encode_line, encode_plan
from locustfiles.recorder import StepRecorder
from locustfiles.worker_merge import WorkerId, WorkerMerge
from tests.unit.fake_clock import T0, FakeTime, install

PLAN = Plan(experiment="merge", steps=[
    Step(index=1, users=10, spawn_rate=10, start_s=0, window_start_s=2, end_s=10, flush_s=11, toxics=[]),
    Step(index=2, users=20, spawn_rate=10, start_s=10, window_start_s=12, end_s=20, flush_s=21, toxics=[]),
])
W0 = WorkerId(client_id="vm_aaa", index=0, host="vm")
W1 = WorkerId(client_id="vm_bbb", index=1, host="vm")


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    return install(monkeypatch)


class Collect:
    """A recorder output keeping what a worker would send."""

    def __init__(self) -> None:
        self.steps: list[StepLine] = []
        self.lives: list[StepLine] = []

    def step(self, line: StepLine) -> None:
        self.steps.append(line)

    def live(self, line: StepLine) -> None:
        self.lives.append(line)


def _recorder(tmp_path: Path, output: Collect) -> StepRecorder:
    clock_path = tmp_path / "clock.json"
    write_clock(clock_path, T0)
    return StepRecorder(PLAN, PlanClock(clock_path), output=output)


def _over_the_wire(line: StepLine) -> StepLine:
    """The payload as Locust's RPC carries it: msgpack of the message's data, then the model again."""
    return decode_line(msgpack.unpackb(msgpack.packb(encode_line(line)), raw=False))


def _line(index: int, tiers: dict[str, list[float]] | None = None, users: int | None = None) -> StepLine:
    series = {}
    for tier, samples in (tiers or {}).items():
        histogram = new_histogram()
        for ms in samples:
            record_ms(histogram, ms)
        series[tier] = TierSeries.model_validate({"faulted": {"hdr": histogram.encode().decode()}})
    return StepLine(index=index, window=(T0 + 2, T0 + 10), users=users, tiers=series)


def test_a_histogram_merged_over_the_message_path_equals_the_one_of_all_raw_samples(
        tmp_path: Path, now: FakeTime) -> None:
    rng = random.Random(12)
    # A long-tailed mix from 0.05 ms to 30 s, the range a fault makes: sub-ms, ms, seconds.
    raw = [rng.lognormvariate(1.0, 2.0) for _ in range(20_000)] + [0.05, 0.3, 999.9, 30_000.0]
    outputs = [Collect(), Collect()]
    workers = [_recorder(tmp_path, output) for output in outputs]
    reference = new_histogram()
    for number, ms in enumerate(raw):
        workers[number % 2].on_request(request_type="GET", name="/api", response_time=ms, start_time=T0 + 5.0)
        record_ms(reference, ms)
    now.now = T0 + 11.0
    for recorder in workers:
        recorder.tick(5)

    merge = WorkerMerge(PLAN)
    merge.present(6.0, {W0.client_id: W0, W1.client_id: W1}, {W0.client_id: 5, W1.client_id: 5})
    merge.add_own(_line(1))  # the master's own recorder: no users, no samples under the harness
    for worker, output in zip((W0, W1), outputs, strict=True):
        (line,) = output.steps
        merge.add_line(worker, _over_the_wire(line))
    (merged,) = merge.due(11.0, {W0.client_id, W1.client_id})

    histogram = decode(merged.tiers["http"].faulted.hdr or "")
    assert histogram.get_total_count() == len(raw) == reference.get_total_count()
    assert list(histogram.counts) == list(reference.counts)  # every bucket, not only the percentiles
    assert summarize(histogram) == summarize(reference)
    assert merged.users == 10
    assert [(w.worker, w.users, w.samples, w.lost) for w in merged.workers] == [
        (0, 5, {"http": 10_002}, False), (1, 5, {"http": 10_002}, False)]
    assert merged.sources == 1  # one file for the engine, standing for both workers


def test_the_plan_travels_to_a_worker_whole() -> None:
    sent = WorkerPlan(plan=PLAN, t0=T0, websocket_url="ws://127.0.0.1:18000",
                      websocket_control_url="ws://127.0.0.1:18001", viewer_control_share=0.25)
    assert decode_plan(msgpack.unpackb(msgpack.packb(encode_plan(sent)), raw=False)) == sent


def test_the_merge_waits_for_every_worker_taking_part_then_comes_at_once() -> None:
    merge = WorkerMerge(PLAN)
    merge.present(3.0, {W0.client_id: W0, W1.client_id: W1}, {})
    merge.add_own(_line(1))
    merge.add_line(W0, _line(1, {"http": [5.0]}, users=5))
    assert merge.due(10.5, {W0.client_id, W1.client_id}) == [], "before the flush"
    assert merge.due(11.5, {W0.client_id, W1.client_id}) == [], "worker 1's line has not come"
    merge.add_line(W1, _line(1, {"http": [6.0, 7.0]}, users=5))
    (merged,) = merge.due(11.6, {W0.client_id, W1.client_id})
    assert [share.samples["http"] for share in merged.workers] == [1, 2]
    assert merge.due(12.0, {W0.client_id, W1.client_id}) == [], "written once"


def test_a_worker_lost_mid_step_is_named_and_does_not_hold_the_line_once_gone() -> None:
    merge = WorkerMerge(PLAN)
    merge.present(3.0, {W0.client_id: W0, W1.client_id: W1}, {W0.client_id: 5, W1.client_id: 5})
    merge.present(6.0, {W0.client_id: W0}, {W0.client_id: 10})  # worker 1 stopped answering mid-window
    merge.add_own(_line(1))
    merge.add_line(W0, _line(1, {"http": [5.0]}, users=10))
    (merged,) = merge.due(11.0, {W0.client_id})  # Locust no longer counts worker 1: no wait for it
    assert [(w.worker, w.users, w.lost) for w in merged.workers] == [(0, 10, False), (1, 5, True)]
    assert merged.users == 10


def test_a_silent_worker_still_connected_is_named_lost_after_the_grace() -> None:
    merge = WorkerMerge(PLAN, grace_s=5.0)
    merge.present(3.0, {W0.client_id: W0, W1.client_id: W1}, {})
    merge.add_own(_line(1))
    merge.add_line(W0, _line(1, {"http": [5.0]}, users=5))
    connected = {W0.client_id, W1.client_id}
    assert merge.due(15.9, connected) == []
    (merged,) = merge.due(16.0, connected)
    assert [w.lost for w in merged.workers] == [False, True]
    merge.add_line(W1, _line(1, {"http": [9.0]}))  # too late: the step is written and names it lost
    assert merge.due(17.0, connected) == []


def test_a_worker_joining_after_a_window_is_not_awaited_for_it() -> None:
    merge = WorkerMerge(PLAN)
    merge.present(5.0, {W0.client_id: W0}, {})
    merge.present(10.5, {W0.client_id: W0, W1.client_id: W1}, {})  # settling of step 2
    merge.add_own(_line(1))
    merge.add_line(W0, _line(1, {"http": [5.0]}))
    (merged,) = merge.due(11.0, {W0.client_id, W1.client_id})
    assert [w.worker for w in merged.workers] == [0]


def test_live_snapshots_of_one_cut_merge_once_every_worker_sent_it() -> None:
    merge = WorkerMerge(PLAN)
    cut = (T0 + 2.0, T0 + 6.0)
    own = StepLine(index=0, window=cut)
    merge.add_own_live(own)
    merge.add_live(W0, _line(0, {"http": [1.0, 2.0]}).model_copy(update={"window": cut}))
    assert merge.live_due(T0 + 6.5, {W0.client_id, W1.client_id}) is None
    merge.add_live(W1, _line(0, {"http": [3.0]}).model_copy(update={"window": cut}))
    live = merge.live_due(T0 + 6.6, {W0.client_id, W1.client_id})
    assert live is not None and live.window == cut
    assert decode(live.tiers["http"].faulted.hdr or "").get_total_count() == 3
    assert merge.live_due(T0 + 7.0, {W0.client_id, W1.client_id}) is None


def test_the_master_spreads_each_user_class_over_the_workers() -> None:
    """Locust's own cycle would put every viewer on worker 0 and every HTTP user on worker 1.

    In a subprocess: importing Locust patches the interpreter with gevent.
    """
    script = """
from locust import User
from locust.runners import WorkerNode
from locustfiles.spread import SpreadDispatcher

class DashboardViewer(User):
    weight = 1
class WidgetUser(User):
    weight = 1

nodes = [WorkerNode("vm_a"), WorkerNode("vm_b")]
dispatcher = SpreadDispatcher(worker_nodes=nodes, user_classes=[DashboardViewer, WidgetUser])
dispatcher.new_dispatch(target_user_count=10, spawn_rate=100)
spread = next(dispatcher)
print(sorted((node, counts["DashboardViewer"], counts["WidgetUser"]) for node, counts in spread.items()))
dispatcher.remove_worker(nodes[1])
dispatcher.new_dispatch(target_user_count=10, spawn_rate=100)
print(sorted((node, counts["DashboardViewer"], counts["WidgetUser"]) for node, counts in next(dispatcher).items()))
"""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    spread, after_loss = done.stdout.strip().splitlines()[-2:]
    assert spread == "[('vm_a', 3, 2), ('vm_b', 2, 3)]"
    assert after_loss == "[('vm_a', 5, 5)]"
