"""End to end on the real local stack: `harness run` as a user runs it.

A short clickhouse-latency (3 steps of 8 s: no toxic, 100 ms, 200 ms on the
ClickHouse link) must show ClickHouse degrading by the injected latency, give
every tier samples, and leave no toxic, proxy or process of the run behind;
the same cleanup must hold when the run is interrupted mid-step.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    assert_clickhouse_degrades,
    assert_nothing_left,
    run_folder,
    run_harness,
    start_harness,
    summary_of,
    wait_for_event,
    write_spec,
)

pytestmark = pytest.mark.integration


def test_short_clickhouse_latency_degrades_clickhouse_only(tmp_path: Path) -> None:
    require_local_stack_programs()
    results = tmp_path / "results"
    completed = run_harness(write_spec(tmp_path), results, "--backend", "local")
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    folder = run_folder(results)
    assert f"results: {folder}" in completed.stdout

    assert_clickhouse_degrades(summary_of(folder), backend="local")
    for name in ("experiment.yaml", "journal.jsonl", "steps.csv", "junit.xml", "report.md"):
        assert (folder / name).is_file(), name
    assert (folder / "logs" / "clickhouse-server.log").exists()
    assert_nothing_left(folder)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
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
