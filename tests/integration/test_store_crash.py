"""Stores killed in the middle of a real run: Redis in step 2, then ClickHouse in step 3.

Each death is recorded as an event with its time (the stack is watched every
second), every step it met is flagged, the report lists it, and the run goes
on (``on_store_crash: continue``, the default) or ends ``aborted`` at the
first death (``stop``), with exit 1. The test finds each store's pid in the
run's ownership record.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from harness.stack import ownership
from harness.stack.ownership import OwnedProcess
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    assert_nothing_left,
    events,
    short_spec,
    start_harness,
    summary_of,
    wait_for_event,
)

pytestmark = pytest.mark.integration

# A check each second and a poll around it make it ~1-2 s; the slack is wide because a loaded 2-core
# host can delay both by seconds. It still tells the time of the death from the step's end (8 s later).
WATCH_SLACK_S = 6.0


def _pid(folder: Path, name: str) -> int:
    owned, _ = ownership.read_record(folder / ownership.RECORD_FILE)
    return next(o.pid for o in owned if isinstance(o, OwnedProcess) and o.name == name)


def _run_killing(tmp_path: Path, on_crash: str, kills: list[tuple[int, str]]) -> tuple[Path, list[float], int, str]:
    """A run with ``on_store_crash: on_crash`` whose stores are SIGKILLed, each a second into its step.

    The run folder, when each was killed, the harness's exit code and its stderr.
    """
    require_local_stack_programs()
    spec = tmp_path / "stores-killed.yaml"
    spec.write_text(short_spec("stores-killed", "stores killed mid-run", rest=f"on_store_crash: {on_crash}\n"))
    results = tmp_path / "results"
    process = start_harness(spec, results, "--backend", "local", "--linger", "0")
    killed = []
    try:
        for step, name in kills:
            folder = wait_for_event(process, results, lambda e, step=step: e["event"] == "toxics" and e["step"] == step)
            time.sleep(1)
            pid = _pid(folder, name)
            killed.append(time.time())
            os.kill(pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    return folder, killed, process.returncode, stderr


def test_redis_then_clickhouse_killed_the_run_goes_on_and_says_so(tmp_path: Path) -> None:
    folder, (redis_killed, clickhouse_killed), code, stderr = _run_killing(
        tmp_path, "continue", [(2, "redis"), (3, "clickhouse")])
    assert code in (0, 1), stderr[-3000:]

    died = {e["incident"]["service"]: e["incident"] for e in events(folder) if e["event"] == "incident"}
    assert set(died) == {"redis", "clickhouse"}
    redis, clickhouse = died["redis"], died["clickhouse"]
    assert (redis["kind"], redis["step"], redis["what"]) == ("service-died", 2, "redis died (killed by SIGKILL)")
    assert (clickhouse["step"], clickhouse["what"]) == (3, "clickhouse died (killed by SIGKILL)")
    assert redis_killed <= redis["began_at"] <= redis_killed + WATCH_SLACK_S
    assert clickhouse_killed <= clickhouse["began_at"] <= clickhouse_killed + WATCH_SLACK_S
    assert redis["ended_at"] is None and redis["actions"] == ["the run goes on without it (on_store_crash: continue)"]

    summary = summary_of(folder)
    assert summary["status"] == "completed" and [s["index"] for s in summary["steps"]] == [1, 2, 3]
    flags = {step["index"]: " | ".join(step["flags"]) for step in summary["steps"]}
    assert "died" not in flags[1]
    assert "redis died (killed by SIGKILL)" in flags[2] and "clickhouse" not in flags[2]
    assert "redis died" in flags[3] and "clickhouse died (killed by SIGKILL)" in flags[3]
    # The dead store's tier fails its calls from then on: the numbers show it too.
    assert summary["steps"][2]["tiers"]["redis"]["errors"] > 0
    report = (folder / "report.md").read_text()
    incidents = report.split("## Incidents", 1)[1].split("\n## ", 1)[0]
    assert "step 2: redis died (killed by SIGKILL); the run goes on without it" in incidents
    assert "step 3: clickhouse died (killed by SIGKILL)" in incidents
    assert_nothing_left(folder)


def test_on_store_crash_stop_ends_the_run_aborted(tmp_path: Path) -> None:
    folder, (killed,), code, stderr = _run_killing(tmp_path, "stop", [(2, "redis")])
    assert code == 1, stderr[-3000:]
    journal = events(folder)
    kinds = [e["event"] for e in journal]
    assert kinds.index("incident") < kinds.index("stopped") < kinds.index("toxics-cleared")
    stop = next(e["stop"] for e in journal if e["event"] == "stopped")
    assert (stop["kind"], stop["condition"], stop["step"]) == ("store-crash", "on_store_crash", 2)
    assert killed <= stop["at"] <= killed + WATCH_SLACK_S
    summary = summary_of(folder)
    assert summary["status"] == "aborted" and [s["index"] for s in summary["steps"]] == [1]
    assert "> **Stopped by `on_store_crash: stop`:** redis died (killed by SIGKILL)" in (folder / "report.md").read_text()
    assert_nothing_left(folder)
