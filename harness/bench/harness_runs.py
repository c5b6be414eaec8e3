"""Runs of the harness itself (``harness run FILE --backend local``) and reading their summary.json.

The harness runs as its own command, exactly as a user runs it; the bench
only reads ``<results-dir>/latest/summary.json``. A key the bench needs and
the summary lacks is named with its full path, so a change of the summary's
shape reads as "summary.json has no steps[2].tiers.redis.added_ms".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.plan import build_plan
from harness.spec import load_experiment, resolve_experiment
from harness.stack.binaries import REPO_ROOT
from harness.stack.process import tail_file

# 0 every SLO held, 1 an SLO failed: both are measurements. 2, 3, 130 are not.
MEASURED_EXITS = (0, 1)
STACK_MARGIN_S = 240.0  # stack up and down, Locust start, results: minutes at most
STOP_GRACE_S = 90.0


@dataclass(frozen=True)
class HarnessRun:
    label: str
    folder: Path  # the run folder (<results-dir>/latest resolved)
    exit_code: int
    summary: dict[str, Any]


def run_harness(ctx: BenchContext, experiment: str, label: str, step_s: float, extra: tuple[str, ...] = (),
                env: dict[str, str] | None = None) -> HarnessRun:
    """One ``harness run`` of EXPERIMENT (a name or a YAML path) with ``--step-seconds step_s``.

    ``extra``: more options of ``harness run`` (``--workers 2``); ``env``: more environment for it.

    The run writes under a short folder, kept in the bench's folder afterwards
    (see ``BenchContext.short_folder``).
    """
    planned_s = build_plan(load_experiment(resolve_experiment(experiment)).with_step_seconds(step_s)).duration_s
    label_path = f"harness-runs/{label}"
    with ctx.short_folder(label_path) as scratch:
        argv = [sys.executable, "-m", "harness", "run", experiment, "--results-dir", str(scratch),
                "--backend", "local", "--step-seconds", f"{step_s:g}", *extra]
        with open(scratch / "harness.log", "wb") as log:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       cwd=REPO_ROOT, env={**os.environ, **env} if env else None)
            code = _wait(process, planned_s + STACK_MARGIN_S, label, ctx.work / label_path / "harness.log")
    kept = ctx.work / label_path
    log_path = kept / "harness.log"
    if code not in MEASURED_EXITS:
        raise BenchError(f"harness run {label} exited with {code}\nlast lines of {log_path}:\n{tail_file(log_path, 15)}")
    folder = (kept / "latest").resolve()
    summary_path = folder / "summary.json"
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"harness run {label}: cannot read {summary_path}: {exc}") from exc
    return HarnessRun(label, folder, code, summary)


def _wait(process: subprocess.Popen[bytes], timeout_s: float, label: str, log_path: Path) -> int:
    """The harness cleans up on SIGTERM / SIGINT; give it the time to, never SIGKILL it first."""
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGTERM)
        _wait_after_signal(process)
        raise BenchError(f"harness run {label} took over {timeout_s:.0f} s and was stopped; see {log_path}") from None
    except KeyboardInterrupt:
        # Ctrl-C reached the harness too (same process group); let it finish its cleanup.
        _wait_after_signal(process)
        raise


def _wait_after_signal(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def require(data: Any, *path: str | int, source: str = "summary.json") -> Any:
    """``data[path[0]][path[1]]…``, or a BenchError naming the first missing key's full path."""
    current = data
    walked = ""
    for key in path:
        walked += f"[{key}]" if isinstance(key, int) else (f".{key}" if walked else key)
        try:
            current = current[key]
        except (KeyError, IndexError, TypeError):
            raise BenchError(f"{source} has no {walked}") from None
        if current is None:
            raise BenchError(f"{source} has {walked} = null")
    return current


def step_position(summary: dict[str, Any], index: int, source: str = "summary.json") -> int:
    """Where the step numbered ``index`` sits in ``steps`` (for full key paths in messages)."""
    for position in range(len(require(summary, "steps", source=source))):
        if require(summary, "steps", position, "index", source=source) == index:
            return position
    raise BenchError(f"{source} has no step with index {index}")
