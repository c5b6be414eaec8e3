"""locustfiles.recorder.StepRecorder: samples into per-step, per-tier histograms, one JSON line per step.

The recorder is fed Locust-style ``request`` events by hand; no Locust, no gevent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.contract import LIVE_PERIOD_S, live_path, write_clock
from harness.histogram import decode, summarize
from harness.plan import Plan, Step
from locustfiles.loadplan import PlanClock
from locustfiles.recorder import StepRecorder, tier_of
from tests.unit.fake_clock import T0, FakeTime, install

# Two 10 s steps, 2 s settle, 1 s flush grace.
PLAN = Plan(experiment="rec", steps=[
    Step(index=1, users=5, spawn_rate=10, start_s=0, window_start_s=2, end_s=10, flush_s=11, toxics=[]),
    Step(index=2, users=10, spawn_rate=10, start_s=10, window_start_s=12, end_s=20, flush_s=21, toxics=[]),
])


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    return install(monkeypatch)


@pytest.fixture
def out_path(tmp_path: Path) -> Path:
    return tmp_path / "steps.jsonl"


@pytest.fixture
def recorder(tmp_path: Path, out_path: Path) -> StepRecorder:
    clock_path = tmp_path / "clock.json"
    write_clock(clock_path, T0)
    return StepRecorder(PLAN, PlanClock(clock_path), out_path)


def _sample(recorder: StepRecorder, at_s: float, ms: float = 1.0, request_type: str = "GET",
            name: str = "/api/widgets", exception: BaseException | None = None) -> None:
    recorder.on_request(request_type=request_type, name=name, response_time=ms, response_length=0,
                        exception=exception, context={}, start_time=T0 + at_s)


def _counts(record: dict[str, Any], path: str = "faulted") -> dict[str, int]:
    return {tier: (summarize(decode(data[path]["hdr"])).count if data[path] and data[path]["hdr"] else 0)
            for tier, data in record["tiers"].items()}


def _line(recorder: StepRecorder, index: int) -> dict[str, Any]:
    return recorder.line_of(index).model_dump(mode="json")


def test_importing_the_recorder_does_not_import_locust_or_gevent() -> None:
    code = ("import sys, locustfiles.recorder; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("at_s", "step"),
    [
        (-0.5, None),   # before t0
        (0.0, None),    # step 1 settling
        (1.999, None),
        (2.0, 1),       # window opens
        (9.999, 1),
        (10.0, None),   # step 2 settling
        (11.9, None),
        (12.0, 2),
        (19.999, 2),
        (20.0, None),   # after the last window
    ],
)
def test_sample_lands_in_the_window_holding_its_start(recorder: StepRecorder, at_s: float, step: int | None) -> None:
    _sample(recorder, at_s, ms=3.0)
    got = {index: _counts(_line(recorder, index)) for index in (1, 2)}
    expected = {1: {}, 2: {}}
    if step is not None:
        expected[step] = {"http": 1}
    assert got == expected


def test_a_slow_reply_counts_where_it_started(recorder: StepRecorder) -> None:
    _sample(recorder, 9.5, ms=5000.0)  # ends in step 2's window, started in step 1's
    assert _counts(_line(recorder, 1)) == {"http": 1}
    assert _counts(_line(recorder, 2)) == {}


def test_latencies_keep_microseconds(recorder: StepRecorder) -> None:
    for _ in range(50):
        _sample(recorder, 3, ms=0.25, request_type="redis")
        _sample(recorder, 3, ms=0.75, request_type="redis")
    summary = summarize(decode(_line(recorder, 1)["tiers"]["redis"]["faulted"]["hdr"]))
    assert (summary.count, summary.p50_ms, summary.p99_ms) == (100, 0.25, 0.75)


@pytest.mark.parametrize(
    ("request_type", "tier"),
    [("redis", "redis"), ("REDIS", "redis"), ("materialize", "materialize"), ("clickhouse", "clickhouse"),
     ("websocket", "websocket"), ("GET", "http"), ("POST", "http"), ("http", "http"), ("kafka", "http")],
)
def test_tier_of_request_type(request_type: str, tier: str) -> None:
    assert tier_of(request_type) == tier


def test_samples_are_split_by_tier(recorder: StepRecorder) -> None:
    _sample(recorder, 3, request_type="redis", name="probe")
    _sample(recorder, 3, request_type="redis", name="probe")
    _sample(recorder, 4, request_type="GET")
    _sample(recorder, 5, request_type="websocket", name="delivery")
    assert _counts(_line(recorder, 1)) == {"redis": 2, "websocket": 1, "http": 1}


def test_exceptions_are_errors_by_kind_not_latencies(recorder: StepRecorder) -> None:
    _sample(recorder, 3, request_type="websocket", name="lost", exception=RuntimeError("seq 4..5"))
    _sample(recorder, 4, request_type="websocket", name="lost", exception=RuntimeError("seq 9"))
    _sample(recorder, 5, request_type="websocket", name="disconnected", exception=ConnectionError())
    _sample(recorder, 5, request_type="websocket", name="delivery", ms=20)
    _sample(recorder, 6, request_type="redis", name="probe", exception=TimeoutError())
    _sample(recorder, 1, request_type="redis", name="probe", exception=TimeoutError())  # settling: dropped
    record = _line(recorder, 1)
    assert record["tiers"]["websocket"]["faulted"]["errors"] == 3
    assert record["tiers"]["websocket"]["faulted"]["error_kinds"] == {"lost": 2, "disconnected": 1}
    assert _counts(record)["websocket"] == 1
    assert record["tiers"]["redis"]["faulted"] == {"hdr": None, "errors": 1, "error_kinds": {"probe": 1}}


def test_no_samples_without_a_clock(out_path: Path) -> None:
    recorder = StepRecorder(PLAN, PlanClock(None), out_path)
    recorder.on_request(request_type="GET", name="/", response_time=1.0, exception=None, start_time=time.time())
    assert recorder.tick(5) == []
    assert _line(recorder, 1)["tiers"] == {}
    assert not out_path.exists()


def test_clock_started_in_process(now: FakeTime, out_path: Path) -> None:
    clock = PlanClock(None)
    clock.start_now()
    assert clock.t0() == T0
    recorder = StepRecorder(PLAN, clock, out_path)
    now.now = T0 + 5
    recorder.on_request(request_type="GET", name="/", response_time=1000.0, exception=None)  # started at T0+4
    assert _counts(_line(recorder, 1)) == {"http": 1}


def test_tick_writes_one_line_per_step_at_flush_time(recorder: StepRecorder, out_path: Path,
                                                     now: FakeTime) -> None:
    _sample(recorder, 3, ms=2.0, request_type="redis")
    _sample(recorder, 13, ms=4.0, request_type="redis")
    _sample(recorder, 14, ms=4.0)

    steps_written = []
    for at_s, users in [(1, 5), (2, 5), (9.9, 5), (10, 5), (10.99, 6)]:
        now.now = T0 + at_s
        steps_written += recorder.tick(users)
    assert steps_written == []
    assert not out_path.exists()

    now.now = T0 + 11
    assert recorder.tick(7) == [1]
    [line] = out_path.read_text().splitlines()
    first = json.loads(line)
    assert first["index"] == 1
    assert first["window"] == [T0 + 2, T0 + 10]
    assert first["users"] == 5  # users when the window closed
    assert isinstance(first["generator_cpu_percent"], float)
    assert _counts(first) == {"redis": 1}
    assert first["tiers"]["redis"]["faulted"]["errors"] == 0

    now.now = T0 + 11.5
    assert recorder.tick(10) == []
    now.now = T0 + 19.9
    assert recorder.tick(10) == []
    now.now = T0 + 20.05  # the window has closed and the next step already spawns: 13 of its users
    assert recorder.tick(13) == []
    now.now = T0 + 21
    assert recorder.tick(9) == [2]
    now.now = T0 + 60
    assert recorder.tick(0) == []

    lines = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [line["index"] for line in lines] == [1, 2]
    second = lines[1]
    assert second["window"] == [T0 + 12, T0 + 20]
    assert second["users"] == 10  # as the last tick inside the window saw them, not the next step's spawn
    assert _counts(second) == {"redis": 1, "http": 1}


def test_one_late_tick_writes_every_due_step(recorder: StepRecorder, out_path: Path, now: FakeTime) -> None:
    _sample(recorder, 3)
    now.now = T0 + 30
    assert recorder.tick(10) == [1, 2]
    assert [json.loads(line)["index"] for line in out_path.read_text().splitlines()] == [1, 2]


def test_sample_after_its_step_was_written_is_counted_late(recorder: StepRecorder, out_path: Path,
                                                           now: FakeTime) -> None:
    _sample(recorder, 3)
    now.now = T0 + 11
    recorder.tick(5)
    _sample(recorder, 9.9, ms=1100)  # its reply came after the flush
    _sample(recorder, 9.8, exception=TimeoutError())
    assert recorder.late_samples == 2
    now.now = T0 + 21
    recorder.tick(5)
    lines = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert [_counts(line) for line in lines] == [{"http": 1}, {}]


def test_no_out_path_writes_nothing(tmp_path: Path, now: FakeTime) -> None:
    clock = PlanClock(None)
    clock.start_now()
    recorder = StepRecorder(PLAN, clock, None)
    now.now = T0 + 3
    recorder.on_request(request_type="GET", name="/", response_time=1.0, exception=None, start_time=T0 + 3)
    now.now = T0 + 11
    assert recorder.tick(5) == [1]
    assert list(tmp_path.iterdir()) == []


def test_live_snapshots_end_at_the_shared_cuts_including_settling(
        tmp_path: Path, out_path: Path, now: FakeTime) -> None:
    clock_path = tmp_path / "clock.json"
    write_clock(clock_path, T0)
    live_recorder = StepRecorder(PLAN, PlanClock(clock_path), out_path)  # created at T0 (fake time)
    now.now = T0 + 0.5
    live_recorder.tick(5)  # the first cut after now: step 1's window start (2 s)
    _sample(live_recorder, 0.5, ms=3.0, request_type="redis")  # settling: no step, but live
    _sample(live_recorder, 1.0, ms=5.0, request_type="redis")
    _sample(live_recorder, 1.5, request_type="redis", name="probe", exception=ConnectionError("down"))
    now.now = T0 + 1.9
    live_recorder.tick(5)
    assert not live_path(out_path).exists(), "no snapshot before the cut"
    now.now = T0 + 2.05
    live_recorder.tick(5)
    snapshot = json.loads(live_path(out_path).read_text())
    assert snapshot["index"] == 0
    assert snapshot["window"] == [T0, T0 + 2.0], "ends at the plan time of the cut, not at the tick"
    assert snapshot["users"] == 5, "the users Locust ran when the snapshot was taken"
    assert _counts(snapshot) == {"redis": 2}
    assert snapshot["tiers"]["redis"]["faulted"]["errors"] == 1
    assert summarize(decode(snapshot["tiers"]["redis"]["faulted"]["hdr"])).max_ms == pytest.approx(5.0, rel=0.01)
    # Step 1's window (2–10 s) is cut in two equal parts no longer than LIVE_PERIOD_S.
    _sample(live_recorder, 3.0, ms=1.0, request_type="redis")
    now.now = T0 + 6.05
    live_recorder.tick(5)
    snapshot = json.loads(live_path(out_path).read_text())
    assert snapshot["window"] == [T0 + 2.0, T0 + 6.0] and _counts(snapshot) == {"redis": 1}
    assert 10.0 - 6.0 <= LIVE_PERIOD_S
    # The next snapshot starts empty: it is of the last seconds, not the run.
    now.now = T0 + 10.05
    live_recorder.tick(5)
    snapshot = json.loads(live_path(out_path).read_text())
    assert snapshot["window"] == [T0 + 6.0, T0 + 10.0] and snapshot["tiers"] == {}


def test_live_histograms_are_zeroed_and_kept_not_made_anew(recorder: StepRecorder, out_path: Path,
                                                           now: FakeTime) -> None:
    """A fresh histogram every few seconds fragments the heap: memory crept up ~10 % in 10 minutes (soak)."""
    now.now = T0 + 0.5
    recorder.tick(5)
    _sample(recorder, 0.6, ms=2.0, request_type="redis")
    now.now = T0 + 2.05
    recorder.tick(5)
    kept = recorder._live[("redis", "faulted")]
    _sample(recorder, 3.0, ms=7.0, request_type="redis")
    now.now = T0 + 6.05
    recorder.tick(5)
    snapshot = json.loads(live_path(out_path).read_text())
    assert _counts(snapshot) == {"redis": 1}, "zeroed at the cut: the last seconds only"
    assert summarize(decode(snapshot["tiers"]["redis"]["faulted"]["hdr"])).max_ms == pytest.approx(7.0, rel=0.01)
    assert recorder._live[("redis", "faulted")] is kept


def test_control_samples_and_service_times_go_to_their_own_series(recorder: StepRecorder) -> None:
    for _ in range(3):
        recorder.on_request(request_type="redis", name="probe", response_time=5.0, exception=None,
                            start_time=T0 + 3, context={"path": "faulted", "service_ms": 1.0})
    recorder.on_request(request_type="redis", name="probe", response_time=0.5, exception=None,
                        start_time=T0 + 3, context={"path": "control", "service_ms": 0.4})
    recorder.on_request(request_type="redis", name="probe", response_time=9.0, exception=OSError("refused"),
                        start_time=T0 + 3, context={"path": "control"})
    line = recorder.line_of(1)
    redis = line.tiers["redis"]
    assert summarize(decode(redis.faulted.hdr)).count == 3
    assert summarize(decode(redis.faulted.hdr)).max_ms == pytest.approx(5.0, rel=0.01)
    # The intended-send latency is judged; the actual-send one is kept beside it.
    assert summarize(decode(redis.faulted_service.hdr)).max_ms == pytest.approx(1.0, rel=0.01)
    assert summarize(decode(redis.control.hdr)).count == 1
    assert redis.control.errors == 1
    assert summarize(decode(redis.control_service.hdr)).max_ms == pytest.approx(0.4, rel=0.01)


def test_hiccups_land_in_the_step_they_woke_in(recorder: StepRecorder) -> None:
    recorder.on_hiccup(0.3, at=T0 + 3)
    recorder.on_hiccup(2.0, at=T0 + 13)
    recorder.on_hiccup(9.0, at=T0 + 1)  # settling: not measured
    first, second = recorder.line_of(1), recorder.line_of(2)
    assert summarize(decode(first.hiccup.hdr)).max_ms == pytest.approx(0.3, rel=0.01)
    assert summarize(decode(second.hiccup.hdr)).count == 1
