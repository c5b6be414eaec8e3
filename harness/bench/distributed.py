"""distributed_viewers: 500 WebSocket viewers and 100 HTTP users on two Locust workers, one unfaulted step.

One ``harness run --workers 2`` of a one-step experiment on the local stack
(FF_VIEWER_WEIGHT makes the users' mix: 600 users at weight 5:1 are 500
viewers and 100 HTTP users). Read from its summary.json: the users each
worker ran, the WebSocket delivery p95 on the unfaulted link (goal < 200 ms),
and whether the merged counts are exactly the workers' sum (HTTP: the
workers' samples; WebSocket: the workers' plus the WebSocket probe's own
viewers, read from its line in the run folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.harness_runs import require, run_harness
from harness.contract import StepLine
from harness.histogram import decode

NAME = "distributed_viewers"
DELIVERY_GOAL_MS = 200.0


def experiment(viewers: int, http_users: int, spawn_rate: float) -> str:
    return (f"name: distributed-viewers\n"
            f"description: {viewers} WebSocket viewers and {http_users} HTTP users on Locust workers, no fault\n"
            f"ramp:\n  users: [{viewers + http_users}]\n  spawn_rate: {spawn_rate:g}\n  step_s: 60\n"
            f"  settle_s: 15\nfaults: []\n")


def measure(ctx: BenchContext) -> dict[str, Any]:
    s = ctx.settings
    if s.distributed_viewers % s.distributed_http_users:
        raise BenchError(f"{s.distributed_viewers} viewers are not a whole multiple of "
                         f"{s.distributed_http_users} HTTP users (Locust mixes users by whole weights)")
    spec = ctx.folder("distributed") / "distributed-viewers.yaml"
    spec.write_text(experiment(s.distributed_viewers, s.distributed_http_users, s.distributed_spawn_rate))
    weight = s.distributed_viewers // s.distributed_http_users
    run = run_harness(ctx, str(spec), "distributed-viewers", s.distributed_step_s,
                      extra=("--workers", str(s.distributed_workers)), env={"FF_VIEWER_WEIGHT": str(weight)})
    step = require(run.summary, "steps", 0)
    websocket = require(step, "tiers", "websocket", source="steps[0]")
    http = require(step, "tiers", "http", source="steps[0]")
    shares = require(step, "workers", source="steps[0]")
    probe = _probe_count(run.folder, "websocket")
    workers_http = sum(w["samples"].get("http", 0) for w in shares)
    workers_websocket = sum(w["samples"].get("websocket", 0) for w in shares)
    counts_equal = http["count"] == workers_http and websocket["count"] == workers_websocket + probe
    p95 = websocket.get("p95_ms")
    users = s.distributed_viewers + s.distributed_http_users
    why = []
    if step.get("users_running") != users:
        why.append(f"{step.get('users_running')} of {users} users running when the window closed")
    if p95 is None or p95 >= DELIVERY_GOAL_MS:
        why.append(f"delivery p95 {p95} ms, not under {DELIVERY_GOAL_MS:g} ms")
    if not counts_equal:
        why.append("merged counts differ from the workers' sum")
    if any(w["lost"] for w in shares):
        why.append("a worker was lost")
    return {
        "passed": not why,
        "why": why,
        "workers": run.summary.get("workers"),
        "users_running": step.get("users_running"),
        "viewers": s.distributed_viewers,
        "http_users": s.distributed_http_users,
        "step_seconds": s.distributed_step_s,
        "window_s": _window_s(step),
        "per_worker": [{"worker": w["worker"], "users": w["users"], "cpu_percent": w["generator_cpu_percent"],
                        "samples": w["samples"]} for w in shares],
        "delivery_p50_ms": websocket.get("p50_ms"),
        "delivery_p95_ms": p95,
        "delivery_p99_ms": websocket.get("p99_ms"),
        "delivery_control_p95_ms": (websocket.get("control") or {}).get("p95_ms"),
        "websocket_count": websocket["count"],
        "websocket_workers_count": workers_websocket,
        "websocket_probe_count": probe,
        "websocket_errors": websocket.get("errors"),
        "http_count": http["count"],
        "http_workers_count": workers_http,
        "http_errors": http.get("errors"),
        "http_p95_ms": http.get("p95_ms"),
        "counts_equal_workers_sum": counts_equal,
        "host_cpu_busy_percent": (step.get("host") or {}).get("cpu_busy_percent"),
        "flags": step.get("flags", []),
        "verdicts": step.get("slo", {}),
        "run_folder": str(run.folder),
    }


def _probe_count(folder: Path, tier: str) -> int:
    path = folder / "load" / f"probe-{tier}-steps.jsonl"
    try:
        lines = [StepLine.model_validate_json(text) for text in path.read_text().splitlines() if text.strip()]
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read the {tier} probe's line in {path}: {exc}") from exc
    series = next((line.tiers.get(tier) for line in lines if line.index == 1), None)
    return decode(series.faulted.hdr).get_total_count() if series and series.faulted.hdr else 0


def _window_s(step: dict[str, Any]) -> float | None:
    window = step.get("window")
    return round(window[1] - window[0], 1) if window else None


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    users = " + ".join(f"{w['users']}" for w in result["per_worker"])
    return [
        (f"{result['viewers']} viewers + {result['http_users']} HTTP users on {result['workers']} workers",
         f"delivery p95 {result['delivery_p95_ms']} ms; users {users}",
         f"p95 < {DELIVERY_GOAL_MS:g} ms"),
        ("merged counts = workers' sum", "yes" if result["counts_equal_workers_sum"] else "no", "yes"),
    ]
