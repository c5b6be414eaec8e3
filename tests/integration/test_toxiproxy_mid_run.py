"""A real run whose Toxiproxy hangs (SIGSTOP, never continued) in step 2 and is killed in step 3.

No call hangs the harness: it notices within a check period plus the
client's timeouts, resets, restarts Toxiproxy on the same port with every
link's proxies (``LocalStack.restart_toxiproxy``), puts the step's toxic back,
records each incident in the journal (the gap, what was done), flags the
steps it met, finishes the run, and leaves nothing behind. The test reads
Toxiproxy's pid from the run's ownership record, as cleanup would.
"""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest

from harness.stack import ownership
from harness.stack.ownership import OwnedProcess
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    TOXIPROXY_KILLED,
    assert_nothing_left,
    events,
    short_spec,
    start_harness,
    summary_of,
    wait_for_event,
)

pytestmark = pytest.mark.integration

SPEC = short_spec("toxiproxy-trouble", "Toxiproxy hangs in step 2 and dies in step 3; the harness restores it",
                  rest="faults:\n  - {link: clickhouse, type: latency, levels: [null, {latency_ms: 50}, "
                       "{latency_ms: 100}]}\n")
CLIENT_TIMEOUT_S = 5.0  # the runner's ToxiproxyClient


def _toxiproxy_pid(folder: Path) -> int:
    """The newest Toxiproxy the run recorded (a restart records its new one)."""
    owned, _ = ownership.read_record(folder / ownership.RECORD_FILE)
    return [o for o in owned if isinstance(o, OwnedProcess) and o.name == "toxiproxy"][-1].pid


def _incidents(folder: Path) -> list[dict]:
    return [e["incident"] for e in events(folder) if e["event"] == "incident"]


def test_a_hung_then_killed_toxiproxy_is_restored_recorded_and_flagged(tmp_path: Path) -> None:
    require_local_stack_programs()
    spec = tmp_path / "toxiproxy-trouble.yaml"
    spec.write_text(SPEC)
    results = tmp_path / "results"
    process = start_harness(spec, results, "--backend", "local", "--linger", "0")
    stopped_pid = None
    try:
        folder = wait_for_event(process, results, lambda e: e["event"] == "toxics" and e["step"] == 2)
        time.sleep(1)
        stopped_pid = _toxiproxy_pid(folder)
        os.kill(stopped_pid, signal.SIGSTOP)  # never continued: only a restart helps
        hung_at = time.time()
        wait_for_event(process, results, lambda e: e["event"] == "incident", timeout_s=60)
        noticed = time.time() - hung_at
        # A check within a second, GET /proxies and POST /reset time out, then the restart.
        assert noticed < 1 + 2 * CLIENT_TIMEOUT_S + 10, f"took {noticed:.1f} s to restore"

        wait_for_event(process, results, lambda e: e["event"] == "toxics" and e["step"] == 3)
        time.sleep(1)
        killed_pid = _toxiproxy_pid(folder)
        assert killed_pid != stopped_pid, "the restart's Toxiproxy is recorded"
        os.kill(killed_pid, signal.SIGKILL)
        wait_for_event(process, results, lambda e: e["event"] == "incident" and e["incident"]["step"] == 3,
                       timeout_s=30)
        # The new Toxiproxy carries step 3's toxic again, on the same API address.
        api = next(e for e in events(folder) if e["event"] == "stack-up")["endpoints"]["toxiproxy_api"]
        toxics = httpx.get(f"{api}/proxies/clickhouse/toxics", timeout=5).json()
        assert [(t["name"], t["attributes"]["latency"]) for t in toxics] == [("ff-clickhouse-latency-downstream", 100)]
        assert set(httpx.get(f"{api}/proxies", timeout=5).json()) == {
            "redis", "redis-control", "materialize", "materialize-control", "clickhouse", "clickhouse-control",
            "websocket", "websocket-control"}
        _, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
        if stopped_pid is not None:
            try:
                os.kill(stopped_pid, signal.SIGKILL)  # never left stopped, whatever happened
            except ProcessLookupError:
                pass
    assert process.returncode in (0, 1), stderr[-3000:]

    hung, killed = _incidents(folder)
    assert (hung["kind"], hung["step"], killed["step"]) == ("toxiproxy", 2, 3)
    assert "timed out after 5 s" in hung["what"]
    assert hung["actions"][0].startswith("POST /reset failed: ") and "timed out" in hung["actions"][0]
    assert hung["actions"][1:] == ["restart Toxiproxy: done", "put back: add ff-clickhouse-latency-downstream"]
    assert hung["ended_at"] - hung["began_at"] >= 2 * CLIENT_TIMEOUT_S, "the gap runs from the last good answer"
    assert re.search(TOXIPROXY_KILLED, killed["what"]), killed["what"]
    assert killed["actions"][-2:] == ["restart Toxiproxy: done", "put back: add ff-clickhouse-latency-downstream"]

    summary = summary_of(folder)
    assert summary["status"] == "completed"
    steps = {step["index"]: step for step in summary["steps"]}
    assert sorted(steps) == [1, 2, 3]
    assert not any(flag.startswith("Toxiproxy unusable") for flag in steps[1]["flags"])
    for index in (2, 3):
        assert any(flag.startswith("Toxiproxy unusable for ") for flag in steps[index]["flags"]), index
    assert len(summary["incidents"]) == 2
    report = (folder / "report.md").read_text()
    assert "## Incidents" in report and report.count("Toxiproxy unusable for ") >= 2
    assert_nothing_left(folder)
