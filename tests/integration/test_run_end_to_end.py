"""End to end on the real local stack: `harness run` as a user runs it.

A short clickhouse-latency (3 steps of 8 s: no toxic, 100 ms, 200 ms on the
ClickHouse link) must show ClickHouse degrading by the injected latency, give
every tier samples, and leave no toxic, proxy or process of the run behind;
the same cleanup must hold when the run is interrupted mid-step.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.stack.process import processes_of_run
from tests.integration.conftest import require_local_stack_programs

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

SHORT_SPEC = """\
name: clickhouse-latency-short
description: clickhouse-latency cut to three 8 s steps for tests
ramp:
  users: [5, 10, 10]
  spawn_rate: 10
  step_s: 8
  settle_s: 2
faults:
  - link: clickhouse
    type: latency
    stream: downstream
    levels:
      - null
      - {latency_ms: 100}
      - {latency_ms: 200}
"""

# The toxic delays each ClickHouse answer by 200 ms; queueing under load can
# only add to that, never take from it, hence the lopsided bounds.
INJECTED_MS = 200.0
TOLERANCE_BELOW_MS = 20.0
TOLERANCE_ABOVE_MS = 60.0


def _spec(tmp_path: Path) -> Path:
    path = tmp_path / "clickhouse-latency-short.yaml"
    path.write_text(SHORT_SPEC)
    return path


def _harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", *args]


def _run_folder(results: Path) -> Path:
    return (results / "latest").resolve()


def _events(folder: Path) -> list[dict]:
    path = folder / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def _assert_nothing_left(folder: Path) -> None:
    summary = json.loads((folder / "summary.json").read_text())
    run_id = folder.name
    assert summary["status"] in {"completed", "interrupted"}
    assert processes_of_run(run_id) == [], "processes of the run are still alive"
    events = _events(folder)
    cleared = [e for e in events if e["event"] == "toxics-cleared"]
    assert cleared, "the run never removed its toxics"
    # The proxies die with the run's Toxiproxy: nothing answers on its API any more.
    stack = next(e for e in events if e["event"] == "stack-up")
    import httpx

    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stack['endpoints']['toxiproxy_api']}/proxies", timeout=2)


def test_short_clickhouse_latency_degrades_clickhouse_only(tmp_path: Path) -> None:
    require_local_stack_programs()
    results = tmp_path / "results"
    completed = subprocess.run(
        _harness("run", str(_spec(tmp_path)), "--backend", "local", "--results-dir", str(results)),
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    folder = _run_folder(results)
    assert f"results: {folder}" in completed.stdout

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["experiment"] == "clickhouse-latency-short"
    assert summary["status"] == "completed"
    assert summary["backend"] == "local"
    steps = summary["steps"]
    assert [s["index"] for s in steps] == [1, 2, 3]
    assert [s["users"] for s in steps] == [5, 10, 10]
    assert steps[0]["toxics"] == []
    assert steps[2]["toxics"][0]["link"] == "clickhouse"
    assert steps[2]["toxics"][0]["attributes"]["latency"] == 200

    for step in steps:
        for tier in ("redis", "materialize", "clickhouse", "websocket", "http"):
            assert step["tiers"][tier]["count"] > 0, f"step {step['index']}: no {tier} samples"
            assert step["slo"][tier] in {"pass", "fail"}

    baseline = steps[0]["tiers"]["clickhouse"]["p50_ms"]
    faulted = steps[2]["tiers"]["clickhouse"]["p50_ms"]
    added = faulted - baseline
    assert INJECTED_MS - TOLERANCE_BELOW_MS <= added <= INJECTED_MS + TOLERANCE_ABOVE_MS, (
        f"ClickHouse p50 rose by {added:.1f} ms with {INJECTED_MS:.0f} ms injected"
    )
    middle = steps[1]["tiers"]["clickhouse"]["p50_ms"]
    assert baseline < middle < faulted

    for name in ("experiment.yaml", "journal.jsonl", "steps.csv", "junit.xml", "report.md"):
        assert (folder / name).is_file(), name
    assert (folder / "logs" / "clickhouse.log").exists() or (folder / "logs" / "clickhouse-server.log").exists()
    _assert_nothing_left(folder)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupt_mid_step_keeps_finished_steps_and_cleans_up(tmp_path: Path, sig: signal.Signals) -> None:
    require_local_stack_programs()
    results = tmp_path / "results"
    process = subprocess.Popen(
        _harness("run", str(_spec(tmp_path)), "--backend", "local", "--results-dir", str(results)),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 300
        folder = None
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[1][-3000:]
            if (results / "latest").exists():
                folder = _run_folder(results)
                events = _events(folder)
                # Step 1 recorded and step 2's toxic applied: we are inside step 2.
                if any(e["event"] == "step" for e in events) and any(
                    e["event"] == "toxics" and e["step"] == 2 for e in events
                ):
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the run never reached step 2")
        time.sleep(2)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr[-3000:]
    assert folder is not None
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert sig.name in summary["reason"]
    assert len(summary["steps"]) >= 1
    assert summary["steps"][0]["tiers"]["clickhouse"]["count"] > 0
    assert "Partial run" in (folder / "report.md").read_text()
    _assert_nothing_left(folder)
