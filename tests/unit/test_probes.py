"""locustfiles.probes: the open-model schedule and what a stalled call does to the samples after it.

No store: a probe with a fake call, timed by the real clock with wide margins
(a correctness check, not a speed measurement).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from harness.contract import ProbeSettings
from locustfiles.probes import Probe, Schedule


@pytest.mark.parametrize(
    ("slot", "pool", "expected"),
    [(0, 1, [10.0, 10.1, 10.2, 10.3]), (0, 2, [10.0, 10.2, 10.4, 10.6]), (1, 2, [10.1, 10.3, 10.5, 10.7])],
)
def test_each_slot_takes_every_pool_th_tick(slot: int, pool: int, expected: list[float]) -> None:
    ticks = iter(Schedule(10.0, 0.1, slot, pool))
    assert [round(next(ticks), 6) for _ in expected] == expected


class Samples:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, **sample: Any) -> None:
        with self.lock:
            self.items.append(sample)


def _run(probe: Probe, seconds: float) -> Samples:
    samples, stop = Samples(), threading.Event()
    runner = threading.Thread(target=probe.run, args=(samples, stop))
    runner.start()
    time.sleep(seconds)
    stop.set()
    runner.join(timeout=5)
    return samples


def test_a_stall_shows_in_the_calls_that_waited_for_it() -> None:
    calls = {"n": 0}

    def call(_: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            time.sleep(0.3)  # one call stalls; the two due during it wait on the single connection

    probe = Probe("redis", {"faulted": "fake://"}, ProbeSettings(rate_per_s=20.0, pool_size=1),
                  connect=lambda address: object(), call=call)
    samples = _run(probe, 0.9).items
    assert len(samples) >= 6
    stalled, waited = samples[2], samples[3]
    assert stalled["response_time"] >= 290 and stalled["context"]["service_ms"] >= 290
    # The next call went out late: short in service time, long from when it was meant to go.
    assert waited["context"]["service_ms"] < 100
    assert waited["response_time"] >= 150
    assert waited["start_time"] - samples[2]["start_time"] == pytest.approx(0.05, abs=0.005)


def test_faulted_and_control_alternate_at_the_same_rate() -> None:
    probe = Probe("redis", {"faulted": "a", "control": "b"}, ProbeSettings(rate_per_s=20.0, pool_size=2),
                  connect=lambda address: address, call=lambda client: None)
    samples = _run(probe, 1.0).items
    faulted = sorted(s["start_time"] for s in samples if s["context"]["path"] == "faulted")
    control = sorted(s["start_time"] for s in samples if s["context"]["path"] == "control")
    assert abs(len(faulted) - len(control)) <= 2 and len(faulted) >= 15
    # Control calls fall halfway between faulted ones.
    assert control[0] - faulted[0] == pytest.approx(0.025, abs=0.002)


def test_a_failed_call_is_an_error_sample_and_the_probe_reconnects() -> None:
    connects = {"n": 0}

    def connect(address: str) -> int:
        connects["n"] += 1
        return connects["n"]

    def call(client: int) -> None:
        if client == 1:
            raise ConnectionError("reset by peer")

    probe = Probe("redis", {"faulted": "x"}, ProbeSettings(rate_per_s=20.0, pool_size=1), connect, call)
    samples = _run(probe, 0.4).items
    assert isinstance(samples[0]["exception"], ConnectionError)
    assert all(s["exception"] is None for s in samples[1:])
    assert connects["n"] == 2
