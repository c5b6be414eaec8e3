"""host_noise: how late a 1 ms sleep wakes up on this host, idle and under the baseline's 100 users.

Idle: the local stack up (LocalStack, nothing loading it), the harness's
HiccupMeter in its own process for a while, latenesses into an HDR
histogram. At 100 users: ``steps[i].host.hiccup_p99_ms`` / ``hiccup_p999_ms``
of the 100-user step of the baseline runs (verdict_stability's when it ran,
else one run of its own); the median over runs, and each run's.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Any

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.harness_runs import HarnessRun, require
from harness.bench.stability import SHARED_KEY, baseline_runs
from harness.bench.stats import median
from harness.errors import HarnessError
from harness.histogram import decode, summarize
from harness.stack.binaries import REPO_ROOT
from harness.stack.local import LocalStack

NAME = "host_noise"
METER = "locustfiles.hiccup"
USERS = 100


def idle(ctx: BenchContext) -> dict[str, Any]:
    if importlib.util.find_spec(METER) is None:
        raise BenchError(f"{METER} (HiccupMeter) does not exist yet: no idle hiccups to measure")
    seconds = ctx.settings.hiccup_idle_s
    with ctx.short_folder("host-idle") as folder, LocalStack(folder, ctx.run_id):
        try:
            done = subprocess.run([sys.executable, "-m", "locustfiles.bench.hiccup_idle", f"{seconds:g}"],
                                  cwd=REPO_ROOT, capture_output=True, text=True, timeout=seconds + 60)
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"the hiccup meter did not finish in {seconds + 60:.0f} s") from exc
    if done.returncode != 0:
        raise BenchError(f"the hiccup meter failed (exit {done.returncode}):\n{done.stderr[-1500:]}")
    try:
        histogram = decode(json.loads(done.stdout.splitlines()[-1])["hdr"])
    except (IndexError, ValueError, KeyError) as exc:
        raise BenchError(f"the hiccup meter printed no histogram: {done.stdout[-500:]!r}") from exc
    summary = summarize(histogram)
    return {"p99_ms": summary.p99_ms, "p999_ms": summary.p999_ms, "max_ms": summary.max_ms,
            "samples": summary.count, "seconds": seconds}


def at_users(run: HarnessRun, users: int) -> dict[str, float]:
    source = f"summary.json of {run.label}"
    steps = require(run.summary, "steps", source=source)
    for position in range(len(steps)):
        if require(run.summary, "steps", position, "users", source=source) == users:
            return {"p99_ms": require(run.summary, "steps", position, "host", "hiccup_p99_ms", source=source),
                    "p999_ms": require(run.summary, "steps", position, "host", "hiccup_p999_ms", source=source)}
    raise BenchError(f"{source} has no step at {users} users")


def loaded(ctx: BenchContext) -> dict[str, Any]:
    runs = baseline_runs(ctx, ctx.settings.stability_runs if ctx.has(SHARED_KEY) else 1)
    per_run = [at_users(run, USERS) for run in runs]
    return {"p99_ms": median([r["p99_ms"] for r in per_run]), "p999_ms": median([r["p999_ms"] for r in per_run]),
            "runs": per_run}


def measure(ctx: BenchContext) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, part in (("idle", idle), (f"at_{USERS}_users", loaded)):
        try:
            result[name] = part(ctx)
        except HarnessError as exc:
            result[name] = {"error": str(exc)}  # the other half may still be measurable
    if all("error" in value for value in result.values()):
        raise BenchError("; ".join(f"{k}: {v['error']}" for k, v in result.items()))
    return result


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    lines = []
    for name, value in result.items():
        what = f"host hiccups, {name.replace('_', ' ')}"
        if "error" in value:
            lines.append((what, f"[red]not measured: {value['error'].splitlines()[0]}[/]", ""))
        else:
            lines.append((what, f"p99 {value['p99_ms']:g} ms, p99.9 {value['p999_ms']:g} ms", "(context)"))
    return lines
