"""soak: a 100-user run of 10 minutes on the local stack; nothing the harness runs may grow.

One ``harness run`` (the command a user runs) of a single 100-user step with
no fault. Every few seconds the bench reads, from the process table, the
resident memory, open file descriptors and threads of the harness process,
Locust and each probe (found by name in the run's ownership record, pid and
start time checked). The first minute is warm-up (imports, pools, the
ramp); from then on, memory must stay within 10 % of its size at one minute,
and descriptors and threads must not grow.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.bench.harness_runs import MEASURED_EXITS, STACK_MARGIN_S, STOP_GRACE_S
from harness.stack import ownership
from harness.stack.binaries import REPO_ROOT
from harness.stack.ownership import OwnedProcess
from harness.stack.process import tail_file

NAME = "soak"
MEMORY_TOLERANCE = 0.10  # of the size after the first minute
WATCHED = ("locust",)  # and every "<tier>-probe"; the harness is the run's own process
SAMPLE_PERIOD_S = 5.0

SPEC = """\
name: soak
description: 100 users for {seconds:g} s with no fault (make bench --only soak)
ramp:
  users: [{users}]
  spawn_rate: 20
  step_s: {seconds:g}
  settle_s: 10
"""


@dataclass(frozen=True)
class Sample:
    at_s: float  # since the load started
    rss_mb: float
    fds: int
    threads: int


def judge(samples: list[Sample], warmup_s: float, tolerance: float = MEMORY_TOLERANCE) -> dict[str, Any]:
    """One process's samples: sizes at the end of the warm-up, their peaks after it, and whether each held (pure)."""
    after = [sample for sample in samples if sample.at_s >= warmup_s]
    if len(after) < 2:
        raise BenchError(f"only {len(after)} samples after the first {warmup_s:g} s: nothing to compare")
    base, last = after[0], after[-1]
    peak_rss = max(sample.rss_mb for sample in after)
    growth = peak_rss / base.rss_mb - 1 if base.rss_mb else 0.0
    peak_fds, peak_threads = max(s.fds for s in after), max(s.threads for s in after)
    return {
        "rss_mb": {"at_warmup": base.rss_mb, "peak": peak_rss, "end": last.rss_mb},
        "rss_growth_percent": round(100 * growth, 1),
        "fds": {"at_warmup": base.fds, "peak": peak_fds, "end": last.fds},
        "threads": {"at_warmup": base.threads, "peak": peak_threads, "end": last.threads},
        "memory_held": growth <= tolerance,
        # "Do not grow": a pool may open and close a connection between two samples, so the end
        # is read against the start, and a peak may pass it by a few at most.
        "fds_held": last.fds <= base.fds and peak_fds <= base.fds + 4,
        "threads_held": last.threads <= base.threads and peak_threads <= base.threads + 2,
        "samples": len(samples),
        # The trend, a value a minute from the warm-up on: growth that flattens is the heap settling,
        # growth that keeps on is a leak.
        "rss_mb_by_minute": by_minute(after),
    }


def by_minute(samples: list[Sample]) -> list[float]:
    """RSS at the first sample of each minute from the first sample on."""
    picked: dict[int, float] = {}
    for sample in samples:
        picked.setdefault(int((sample.at_s - samples[0].at_s) // 60), sample.rss_mb)
    return list(picked.values())


def measure(ctx: BenchContext) -> dict[str, Any]:
    settings = ctx.settings
    with ctx.short_folder("soak") as scratch:
        spec = scratch / "soak.yaml"
        spec.write_text(SPEC.format(users=settings.soak_users, seconds=settings.soak_s))
        series = _run(spec, scratch, settings.soak_s, settings.soak_s + STACK_MARGIN_S)
    processes = {name: judge(samples, settings.soak_warmup_s) for name, samples in series.items()}
    held = all(p["memory_held"] and p["fds_held"] and p["threads_held"] for p in processes.values())
    return {
        "users": settings.soak_users,
        "seconds": settings.soak_s,
        "warmup_s": settings.soak_warmup_s,
        "goal": f"memory within {MEMORY_TOLERANCE:.0%} of its size after the warm-up; fds and threads do not grow",
        "held": held,
        "processes": processes,
    }


def _run(spec: Path, results: Path, load_s: float, timeout_s: float) -> dict[str, list[Sample]]:
    argv = [sys.executable, "-m", "harness", "run", str(spec), "--results-dir", str(results), "--backend", "local",
            "--linger", "0"]
    log_path = results / "harness.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=REPO_ROOT)
        try:
            series = _sample(process, results, load_s, time.monotonic() + timeout_s)
            code = process.wait(timeout=STOP_GRACE_S)
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)  # the harness cleans up on SIGTERM: give it the time
                try:
                    process.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    if code not in MEASURED_EXITS:
        raise BenchError(f"soak run exited with {code}\nlast lines of {log_path}:\n{tail_file(log_path, 15)}")
    return series


def _sample(process: subprocess.Popen[bytes], results: Path, load_s: float,
            deadline: float) -> dict[str, list[Sample]]:
    """Every few seconds while the load runs (not its teardown): each watched process's numbers."""
    series: dict[str, list[Sample]] = {}
    t0: float | None = None
    harness = psutil.Process(process.pid)
    while process.poll() is None:
        if time.monotonic() > deadline:
            raise BenchError(f"the soak run did not end in time; see {results / 'harness.log'}")
        folder = (results / "latest").resolve()
        t0 = t0 or _clock(folder)
        if t0 is not None and (now := time.time() - t0) <= load_s:
            for name, proc in [("harness", harness), *_load_processes(folder)]:
                sample = _read(proc, now)
                if sample is not None:
                    series.setdefault(name, []).append(sample)
        time.sleep(SAMPLE_PERIOD_S if t0 is not None else 0.5)
    return series


def _clock(folder: Path) -> float | None:
    try:
        lines = (folder / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        if '"event": "clock"' in line:
            return float(json.loads(line)["t0"])
    return None


def _load_processes(folder: Path) -> list[tuple[str, psutil.Process]]:
    owned, _ = ownership.read_record(folder / ownership.RECORD_FILE)
    found = []
    for line in owned:
        if not isinstance(line, OwnedProcess) or not (line.name in WATCHED or line.name.endswith("-probe")):
            continue
        try:
            proc = psutil.Process(line.pid)
            if ownership.same_start(line.start_time, proc.create_time()):
                found.append((line.name, proc))
        except psutil.Error:
            continue
    return found


def _read(proc: psutil.Process, at_s: float) -> Sample | None:
    try:
        with proc.oneshot():
            return Sample(at_s=round(at_s, 1), rss_mb=round(proc.memory_info().rss / 2**20, 2),
                          fds=proc.num_fds(), threads=proc.num_threads())
    except psutil.Error:
        return None  # ending between two samples


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for name, process in result["processes"].items():
        rss, fds, threads = process["rss_mb"], process["fds"], process["threads"]
        ok = process["memory_held"] and process["fds_held"] and process["threads_held"]
        found.append((f"soak: {name}", f"{'held' if ok else 'GREW'}: RSS {rss['at_warmup']:g}→{rss['peak']:g} MB "
                                       f"({process['rss_growth_percent']:+g} %), fds {fds['at_warmup']}→{fds['end']}, "
                                       f"threads {threads['at_warmup']}→{threads['end']}",
                      f"≤ {MEMORY_TOLERANCE:.0%}, no growth"))
    return found
