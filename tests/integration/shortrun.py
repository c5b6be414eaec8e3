"""A short clickhouse-latency run driven through the real CLI, and what a user checks of it.

Shared by the end-to-end tests of each backend: three 8 s steps with no toxic,
100 ms and 200 ms of latency on the ClickHouse link.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.stack import ownership
from harness.stack.leftovers import processes_of_run
from harness.stack.ownership import OwnedProcess

ROOT = Path(__file__).resolve().parents[2]

def short_spec(name: str, description: str, rest: str = "", users: str = "[5, 5, 5]") -> str:
    """An experiment of 8 s steps (2 s of settling) at ``users``, ``rest`` (faults, stop_when…) after the ramp."""
    return (f"name: {name}\ndescription: {description}\n"
            f"ramp:\n  users: {users}\n  spawn_rate: 10\n  step_s: 8\n  settle_s: 2\n{rest}")


SHORT_SPEC = short_spec("clickhouse-latency-short", "clickhouse-latency cut to three 8 s steps for tests",
                        users="[5, 10, 10]", rest="""\
faults:
  - link: clickhouse
    type: latency
    stream: downstream
    levels:
      - null
      - {latency_ms: 100}
      - {latency_ms: 200}
""")

# The toxic delays each ClickHouse answer by 200 ms; queueing under load can
# only add to that, never take from it, hence the lopsided bounds.
INJECTED_MS = 200.0
TOLERANCE_BELOW_MS = 20.0
TOLERANCE_ABOVE_MS = 60.0
TIERS = ("redis", "materialize", "clickhouse", "websocket", "http")
# How a killed Toxiproxy's GET /proxies fails: refused, or reset on the connection the client kept open.
TOXIPROXY_KILLED = r"/proxies failed: (ConnectError|ReadError|RemoteProtocolError)"


def write_spec(folder: Path) -> Path:
    path = folder / "clickhouse-latency-short.yaml"
    path.write_text(SHORT_SPEC)
    return path


def harness_command(spec: Path, results: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "harness", "run", str(spec), "--results-dir", str(results), *extra]


def run_harness(spec: Path, results: Path, *extra: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(harness_command(spec, results, *extra), cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={**os.environ, **(env or {})})


def start_harness(spec: Path, results: Path, *extra: str, env: dict[str, str] | None = None
                  ) -> subprocess.Popen[str]:
    return subprocess.Popen(harness_command(spec, results, *extra), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


def run_folder(results: Path) -> Path:
    return (results / "latest").resolve()


def events(folder: Path) -> list[dict[str, Any]]:
    path = folder / "journal.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def wait_for_event(process: subprocess.Popen[str], results: Path, matches: Any, timeout_s: float = 300
                   ) -> Path:
    """Wait until the newest run's journal holds an event ``matches`` accepts; its folder."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the run ended early (exit {process.returncode}): {process.communicate()[1][-3000:]}")
        if (results / "latest").exists():
            folder = run_folder(results)
            if any(matches(event) for event in events(folder)):
                return folder
        time.sleep(0.2)
    pytest.fail("the run never reached the awaited point")


def summary_of(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "summary.json").read_text())


def assert_clickhouse_degrades(summary: dict[str, Any], backend: str) -> None:
    """The degradation a user looks for: ClickHouse p50 up by the injected latency, every tier measured."""
    assert summary["experiment"] == "clickhouse-latency-short"
    assert summary["status"] == "completed"
    assert summary["backend"] == backend
    # Locally and offline, PostgreSQL stands in for Materialize: the results must say so.
    assert any("PostgreSQL stands in for Materialize" in note for note in summary["notes"])
    steps = summary["steps"]
    assert [s["index"] for s in steps] == [1, 2, 3]
    assert [s["users"] for s in steps] == [5, 10, 10]
    assert steps[0]["toxics"] == []
    assert steps[2]["toxics"][0]["link"] == "clickhouse"
    assert steps[2]["toxics"][0]["attributes"]["latency"] == 200
    for step in steps:
        for tier in TIERS:
            assert step["tiers"][tier]["count"] > 0, f"step {step['index']}: no {tier} samples"
            assert step["slo"][tier] in {"pass", "fail", "inconclusive"}
            if step["slo"][tier] == "fail":
                assert step["cause"][tier] in {"fault", "load"}
    baseline = steps[0]["tiers"]["clickhouse"]["p50_ms"]
    middle = steps[1]["tiers"]["clickhouse"]["p50_ms"]
    faulted = steps[2]["tiers"]["clickhouse"]["p50_ms"]
    added = faulted - baseline
    assert INJECTED_MS - TOLERANCE_BELOW_MS <= added <= INJECTED_MS + TOLERANCE_ABOVE_MS, (
        f"ClickHouse p50 rose by {added:.1f} ms with {INJECTED_MS:.0f} ms injected"
    )
    assert baseline < middle < faulted
    # The effective fault is reported beside the requested one: faulted minus control.
    effect = steps[2]["links"]["clickhouse"]
    assert effect["requested_latency_ms"] == 200.0
    assert INJECTED_MS - TOLERANCE_BELOW_MS <= effect["effective_added_ms"] <= INJECTED_MS + TOLERANCE_ABOVE_MS
    # 200 ms on a link whose SLO is p95 < 500 ms: ClickHouse holds.
    assert steps[2]["slo"]["clickhouse"] == "pass"


def assert_nothing_left(folder: Path) -> None:
    """No process of the run alive (by label and by record), its toxics removed, its Toxiproxy gone."""
    assert processes_of_run(folder.name) == [], "processes of the run are still alive"
    owned, _ = ownership.read_record(folder / ownership.RECORD_FILE)
    assert [o.name for o in owned if isinstance(o, OwnedProcess) and ownership.is_alive(o.identity)] == []
    # A normal end (or a handled signal) takes the run off the ownership registry.
    assert not [path for path, entry in ownership.registered() if entry and entry.run_id == folder.name]
    journal = events(folder)
    assert any(e["event"] == "toxics-cleared" for e in journal), "the run never removed its toxics"
    stack = next(e for e in journal if e["event"] == "stack-up")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stack['endpoints']['toxiproxy_api']}/proxies", timeout=2)
