"""harness.trust per Locust worker: one saturated or lost worker flags the whole step."""

from __future__ import annotations

import pytest

from harness.contract import Series, StepLine, TierSeries, WorkerShare
from harness.histogram import encode, new_histogram, record_ms
from harness.plan import Step
from harness.record import build_record
from harness.spec import TierSlo

STEP = Step(index=2, users=10, spawn_rate=10, start_s=60, window_start_s=70, end_s=120, flush_s=123, toxics=[])
SLOS = {"http": TierSlo(error_ratio=0.01)}


def _line(shares: list[WorkerShare], cpu: float | None) -> StepLine:
    histogram = new_histogram()
    for _ in range(500):
        record_ms(histogram, 5.0)
    return StepLine(index=2, window=(1070.0, 1120.0), users=10, generator_cpu_percent=cpu,
                    tiers={"http": TierSeries(faulted=Series(hdr=encode(histogram)))}, workers=shares)


@pytest.mark.parametrize(("shares", "cpu", "expected"), [
    ([WorkerShare(worker=0, host="vm", users=5, generator_cpu_percent=20.0),
      WorkerShare(worker=1, host="vm", name="locust-worker-2", users=5, generator_cpu_percent=93.0)], 93.0,
     ["load generator CPU 93% on worker 1 (locust-worker-2 on vm) > 80%: latencies may include its own delay"]),
    ([WorkerShare(worker=0, host="vm", users=10, generator_cpu_percent=20.0),
      WorkerShare(worker=1, host="vm", name="locust-worker-2", users=5, lost=True)], 20.0,
     ["worker 1 (locust-worker-2 on vm) was lost during the step (5 users ran there): "
      "its samples of the step are missing"]),
    # One process, no master: the flag keeps its words.
    ([WorkerShare(worker=None, host="vm", users=10, generator_cpu_percent=90.0)], 90.0,
     ["load generator CPU 90% > 80%: latencies may include its own delay"]),
    ([WorkerShare(worker=0, users=5, generator_cpu_percent=30.0), WorkerShare(worker=1, users=5)], 30.0, []),
])
def test_a_saturated_or_lost_worker_flags_the_step(shares: list[WorkerShare], cpu: float,
                                                   expected: list[str]) -> None:
    record = build_record(STEP, _line(shares, cpu), SLOS)
    assert record.flags == expected
    assert record.workers == shares
