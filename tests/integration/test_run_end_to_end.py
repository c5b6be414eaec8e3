"""End to end on the real local stack: `harness run` as a user runs it.

A short clickhouse-latency (3 steps of 8 s: no toxic, 100 ms, 200 ms on the
ClickHouse link; the shared watched run of conftest.py) must show ClickHouse degrading by the injected latency, give
every tier samples, and leave no toxic, proxy or process of the run behind;
the same cleanup must hold when the run is interrupted mid-step (SIGINT,
SIGTERM, SIGHUP) and when an exception is raised inside a step.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from harness.events import Event, LiveWindow, StepRecorded, ToxicsApplied
from harness.results import RunStatus
from harness.runner import RunOptions, run_experiment
from harness.spec import load_experiment
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    assert_clickhouse_degrades,
    assert_nothing_left,
    start_harness,
    summary_of,
    wait_for_event,
    write_spec,
)
from tests.integration.watched_run import WatchedRun, assert_judged

pytestmark = pytest.mark.integration


def test_short_clickhouse_latency_degrades_clickhouse_only(watched_short_run: WatchedRun) -> None:
    run = watched_short_run
    assert_judged(run)
    assert f"results: {run.folder}" in run.stdout

    assert_clickhouse_degrades(summary_of(run.folder), backend="local")
    for name in ("experiment.yaml", "journal.jsonl", "steps.csv", "junit.xml", "report.md"):
        assert (run.folder / name).is_file(), name
    assert (run.folder / "logs" / "clickhouse-server.log").exists()
    assert_nothing_left(run.folder)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_interrupt_mid_step_keeps_finished_steps_and_cleans_up(tmp_path: Path, sig: signal.Signals) -> None:
    require_local_stack_programs()
    results = tmp_path / "results"
    process = start_harness(write_spec(tmp_path), results, "--backend", "local")
    try:
        # Step 1 recorded and step 2's toxic applied: we are inside step 2.
        folder = wait_for_event(process, results, lambda e: e["event"] == "toxics" and e["step"] == 2)
        wait_for_event(process, results, lambda e: e["event"] == "step")
        time.sleep(1)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr[-3000:]
    summary = summary_of(folder)
    assert summary["status"] == "interrupted"
    assert sig.name in summary["reason"]
    assert len(summary["steps"]) >= 1
    assert summary["steps"][0]["tiers"]["clickhouse"]["count"] > 0
    assert "Partial run" in (folder / "report.md").read_text()
    assert_nothing_left(folder)


class BreaksInStep2:
    """An observer that raises inside step 2, with its toxic on and step 1 on record: a bug mid-step."""

    def __init__(self) -> None:
        self.armed = False
        self.active: list[object] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, ToxicsApplied) and event.step == 2:
            self.active = list(event.active)
        elif isinstance(event, StepRecorded) and event.record.index == 1:
            self.armed = True  # recorded during step 2's settling
        elif isinstance(event, LiveWindow) and self.armed:
            self.armed = False
            raise RuntimeError("observer broke in step 2")


def test_an_exception_inside_a_step_still_cleans_up(tmp_path: Path) -> None:
    """run_experiment in this process, as the CLI calls it, with an observer that raises mid-step."""
    require_local_stack_programs()
    spec = load_experiment(write_spec(tmp_path))
    broken = BreaksInStep2()
    outcome = run_experiment(spec, RunOptions(results_dir=tmp_path / "results", backend="local"), [broken])
    assert broken.active, "step 2 began with its toxic on"
    assert outcome.summary.status == RunStatus.FAILED
    assert outcome.error is not None and "internal error: RuntimeError: observer broke in step 2" in str(outcome.error)
    assert [step.index for step in outcome.summary.steps] == [1]
    assert "Partial run" in (outcome.folder / "report.md").read_text()
    assert_nothing_left(outcome.folder)
