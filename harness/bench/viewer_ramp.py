"""One Locust process of DashboardViewers, stepped up against the Go broadcast server.

Serves ws_viewers_per_process and memory_per_viewer_kb (run once, shared).
Per viewer count: ask the Locust process for N viewers (its control file),
wait until N receive loops run, settle, then hold: the Locust process's CPU
(psutil, % of one core) over the hold, its RSS at the end, and from two
status snapshots the failures per event name, deliveries received against
frames the server sent, and the delivery latency p50/p95. Stops at the
first count that fails: the counts above it would only load the machine.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from harness.bench.children import child, handle, locust_argv, running
from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.stats import bucket_percentile, counts_between
from harness.bench.wsserver import BroadcastServer, broadcast_server
from harness.stack.process import ManagedProcess

LOCUSTFILE = "locustfiles/bench/viewers.py"
SHARED_KEY = "viewer_ramp"
# Received against sent frames per second: a viewer falling behind the pushes.
MIN_RECEIVED_RATIO = 0.98
STATUS_TIMEOUT_S = 60.0


class ViewerStep(BaseModel):
    viewers: int
    connected: int
    cpu_percent: float | None  # Locust process, % of one core, over the hold
    server_cpu_percent: float | None
    rss_mb: float
    sent_per_s: float  # frames the server sent, over the hold
    received_per_s: float  # deliveries the Locust process recorded, over the hold
    failures: dict[str, int]  # per event name: lost, out-of-order, duplicate, disconnected, connect, …
    delivery_p50_ms: float | None
    delivery_p95_ms: float | None
    passed: bool
    why: list[str]  # empty when passed


class ViewerRamp(BaseModel):
    idle_rss_mb: float  # the Locust process running, no viewer yet
    cpu_limit_percent: float
    push_hz: float
    steps: list[ViewerStep]


def viewer_ramp(ctx: BenchContext) -> ViewerRamp:
    return ctx.shared(SHARED_KEY, lambda: _measure(ctx))


def _measure(ctx: BenchContext) -> ViewerRamp:
    s = ctx.settings
    folder = ctx.folder("viewers")
    control = folder / "control.json"
    control.unlink(missing_ok=True)
    (folder / "status.json").unlink(missing_ok=True)
    with broadcast_server(ctx, s.viewer_push_hz) as server:
        env = {"FF_BENCH_DIR": str(folder), "FF_BENCH_WS_URL": server.url}
        with running(child(ctx, "locust-viewers", locust_argv(LOCUSTFILE), folder, env)) as locust:
            try:
                _status(folder, locust, newer_than=0.0)
                time.sleep(2.0)  # imports done, nothing connected: the base RSS
                idle_rss_mb = handle(locust).memory_info().rss / 2**20
                steps = []
                for count in s.viewer_counts:
                    step = _step(ctx, folder, locust, server, count)
                    steps.append(step)
                    if not step.passed:
                        break
            finally:
                _write_control(control, {"stop": True})
                time.sleep(2.0)  # viewers close their sockets themselves; stop() follows anyway
    return ViewerRamp(idle_rss_mb=round(idle_rss_mb, 1), cpu_limit_percent=s.viewer_cpu_limit_percent,
                      push_hz=s.viewer_push_hz, steps=steps)


def _step(ctx: BenchContext, folder: Path, locust: ManagedProcess, server: BroadcastServer,
          count: int) -> ViewerStep:
    s = ctx.settings
    before_ramp = _status(folder, locust, newer_than=time.time())
    _write_control(folder / "control.json", {"users": count, "spawn_rate": s.viewer_spawn_rate})
    ramp_timeout_s = count / s.viewer_spawn_rate + 30.0
    deadline = time.monotonic() + ramp_timeout_s
    status = before_ramp
    while status["connected"] < count or status["users"] < count:
        if time.monotonic() >= deadline:
            break
        time.sleep(0.5)
        status = _status(folder, locust, newer_than=0.0)
    time.sleep(s.viewer_settle_s)

    process, server_process = handle(locust), handle(server.process)
    process.cpu_percent(None)
    server_process.cpu_percent(None)
    first, sent_first = _status(folder, locust, newer_than=time.time()), _sent(server)
    time.sleep(s.viewer_hold_s)
    last, sent_last = _status(folder, locust, newer_than=time.time()), _sent(server)
    cpu, server_cpu = process.cpu_percent(None), server_process.cpu_percent(None)
    rss_mb = process.memory_info().rss / 2**20

    failures = counts_between(_failures(before_ramp), _failures(last))
    # Rates, each over its own side's snapshot times: the two sides are read
    # up to a poll apart, which in counts would look like frames gone missing.
    received = (_requests(last).get("delivery", 0) - _requests(first).get("delivery", 0)) / (last["at"] - first["at"])
    sent = (sent_last[1] - sent_first[1]) / (sent_last[0] - sent_first[0])
    delivery = {int(ms): n for ms, n in counts_between(first["delivery_ms"], last["delivery_ms"]).items()}
    why = []
    if last["connected"] < count:
        why.append(f"{last['connected']} of {count} viewers connected")
    if failures:
        why.append("failures: " + ", ".join(f"{n} {name}" for name, n in sorted(failures.items())))
    if cpu >= s.viewer_cpu_limit_percent:
        why.append(f"Locust CPU {cpu:.0f} % ≥ {s.viewer_cpu_limit_percent:.0f} % of a core")
    if sent == 0 or received < sent * MIN_RECEIVED_RATIO:
        why.append(f"received {received:.0f} frames/s of {sent:.0f}/s sent during the hold")
    return ViewerStep(
        viewers=count, connected=last["connected"], cpu_percent=round(cpu, 1),
        server_cpu_percent=round(server_cpu, 1), rss_mb=round(rss_mb, 1), sent_per_s=round(sent, 1),
        received_per_s=round(received, 1),
        failures=failures, delivery_p50_ms=bucket_percentile(delivery, 50.0),
        delivery_p95_ms=bucket_percentile(delivery, 95.0), passed=not why, why=why,
    )


def _write_control(path: Path, control: dict[str, Any]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(control))
    partial.replace(path)


def _status(folder: Path, locust: ManagedProcess, newer_than: float) -> dict[str, Any]:
    """The Locust process's status, written after ``newer_than`` (it writes one a second)."""
    path = folder / "status.json"
    deadline = time.monotonic() + STATUS_TIMEOUT_S
    while True:
        try:
            status = json.loads(path.read_text())
            if status["at"] > newer_than:
                return status
        except (OSError, ValueError, KeyError):
            pass
        if not locust.running():
            raise BenchError(f"the viewer Locust process exited with code {locust.exit_code()}"
                             f"\nlast lines of {locust.log_path}:\n{locust.tail(15)}")
        if time.monotonic() >= deadline:
            raise BenchError(f"the viewer Locust process wrote no status to {path} in {STATUS_TIMEOUT_S:.0f} s"
                             f"\nlast lines of {locust.log_path}:\n{locust.tail(15)}")
        time.sleep(0.05)


def _sent(server: BroadcastServer) -> tuple[float, int]:
    return time.time(), server.stats()["sent"]


def _failures(status: dict[str, Any]) -> dict[str, int]:
    return {name: entry["failures"] for name, entry in status["entries"].items()}


def _requests(status: dict[str, Any]) -> dict[str, int]:
    return {name: entry["requests"] for name, entry in status["entries"].items()}
