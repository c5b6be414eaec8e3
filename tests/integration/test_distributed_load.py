"""Distributed load on the real local stack: `harness run --workers 2`, a Locust master and two workers.

The short clickhouse-latency run of the end-to-end test, with its users on two
Locust workers: the summary has the one-process run's shape (the shared
watched run of conftest.py is that run), every merged
count is the workers' sum (plus the WebSocket probe's own viewers), both
workers run viewers and HTTP users, and ClickHouse degrades as it does with
one process. Killing one worker mid-step flags that step and the run goes on.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from harness.contract import StepLine
from harness.histogram import decode
from harness.stack import ownership
from harness.stack.ownership import OwnedProcess
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    assert_clickhouse_degrades,
    assert_nothing_left,
    run_folder,
    run_harness,
    short_spec,
    start_harness,
    summary_of,
    wait_for_event,
    write_spec,
)
from tests.integration.watched_run import WatchedRun, assert_judged

pytestmark = pytest.mark.integration


def _probe_counts(folder: Path, tier: str) -> dict[int, int]:
    """Per step, the faulted samples of ``tier``'s probe process (its own line, beside Locust's)."""
    counts = {}
    for text in (folder / "load" / f"probe-{tier}-steps.jsonl").read_text().splitlines():
        line = StepLine.model_validate_json(text)
        series = line.tiers.get(tier)
        counts[line.index] = decode(series.faulted.hdr).get_total_count() if series and series.faulted.hdr else 0
    return counts


def _shape(summary: dict[str, Any]) -> dict[str, set[str]]:
    """The keys a reader of summary.json relies on: the run's, each step's, each tier's and each worker's."""
    step = summary["steps"][-1]
    return {"run": set(summary), "step": set(step), "tier": set(step["tiers"]["http"]),
            "worker": set(step["workers"][0])}


def test_two_workers_merge_exactly_and_keep_the_one_process_summary(watched_short_run: WatchedRun,
                                                                    tmp_path: Path) -> None:
    require_local_stack_programs()
    assert_judged(watched_short_run)  # the same experiment in one Locust process
    spec = write_spec(tmp_path)
    completed = run_harness(spec, tmp_path / "two", "--backend", "local", "--workers", "2", "--linger", "0")
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    folder = run_folder(tmp_path / "two")
    summary = summary_of(folder)
    single = summary_of(watched_short_run.folder)

    assert _shape(summary) == _shape(single)
    assert single["workers"] == 1 and [w["worker"] for w in single["steps"][0]["workers"]] == [None]
    assert summary["workers"] == 2
    assert_clickhouse_degrades(summary, backend="local")
    viewers_probe = _probe_counts(folder, "websocket")
    for step in summary["steps"]:
        shares = step["workers"]
        assert [w["worker"] for w in shares] == [0, 1] and not any(w["lost"] for w in shares)
        assert sum(w["users"] for w in shares) == step["users_running"] == step["users"]
        # Exactly the workers' samples: HTTP users run only on workers; viewers also in the probe process.
        assert step["tiers"]["http"]["count"] == sum(w["samples"].get("http", 0) for w in shares)
        assert step["tiers"]["websocket"]["count"] == (sum(w["samples"].get("websocket", 0) for w in shares)
                                                        + viewers_probe[step["index"]])
        for share in shares:
            assert share["samples"].get("http", 0) > 0 and share["samples"].get("websocket", 0) > 0, (
                f"step {step['index']}: worker {share['worker']} did not run both viewers and HTTP users")
        assert not [flag for flag in step["flags"] if "worker" in flag]
    assert (folder / "load" / "locust-worker-1.log").exists() and (folder / "load" / "locust-worker-2.log").exists()
    assert_nothing_left(folder)


KILL_SPEC = short_spec("distributed-worker-lost", "two 8 s steps, no fault; a worker is killed in step 1",
                       users="[6, 6]")


def test_a_worker_killed_mid_step_flags_that_step_and_the_run_completes(tmp_path: Path) -> None:
    require_local_stack_programs()
    spec = tmp_path / "worker-lost.yaml"
    spec.write_text(KILL_SPEC)
    results = tmp_path / "results"
    process = start_harness(spec, results, "--backend", "local", "--workers", "2", "--linger", "0")
    try:
        folder = wait_for_event(process, results, lambda e: e["event"] == "toxics" and e["step"] == 1)
        time.sleep(3.0)  # step 1 settles for 2 s: now inside its window
        owned, _ = ownership.read_record(folder / ownership.RECORD_FILE)
        (victim,) = [o for o in owned if isinstance(o, OwnedProcess) and o.name == "locust-worker-2"]
        os.kill(victim.pid, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (0, 1), stderr[-3000:]
    summary = summary_of(folder)
    assert summary["status"] == "completed"
    steps = summary["steps"]
    assert [s["index"] for s in steps] == [1, 2]
    lost = [w for w in steps[0]["workers"] if w["lost"]]
    assert len(lost) == 1, steps[0]["workers"]
    assert lost[0]["name"] == "locust-worker-2"
    assert any("(locust-worker-2 on " in flag and "was lost during the step" in flag
               and "samples of the step are missing" in flag for flag in steps[0]["flags"]), steps[0]["flags"]
    # The run went on at the planned load: the worker left runs every user, viewers and HTTP users.
    (left,) = steps[1]["workers"]
    assert not left["lost"] and left["users"] == steps[1]["users_running"] == 6, steps[1]["workers"]
    assert steps[1]["tiers"]["http"]["count"] > 0 and steps[1]["tiers"]["websocket"]["count"] > 0
    assert not [flag for flag in steps[1]["flags"] if "worker" in flag], steps[1]["flags"]
    assert "locust-worker-2 died" in stdout + stderr  # said on the console as it happened
    assert json.loads((folder / "summary.json").read_text())["workers"] == 2
    assert_nothing_left(folder)
