"""Per-step, per-tier HDR histograms, written as one JSON line per step.

Every sample reaches the recorder as a Locust ``request`` event. Its tier is
the request type when that names a tier (probes and the WebSocket viewer fire
them so), otherwise ``http``. The sample belongs to the step whose measurement
window holds its start time; samples outside every window (settling, warm-up)
are not recorded. At each step's flush time the recorder appends that step's
record to ``steps.jsonl`` and fsyncs it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psutil
from hdrh.histogram import HdrHistogram

from harness.histogram import encode, new_histogram, record_ms
from harness.plan import Plan, step_for_sample
from harness.tiers import TIERS
from locustfiles.loadplan import PlanClock

LIVE_PERIOD_S = 5.0


def live_path(records_path: Path) -> Path:
    """Where the live snapshot beside a records file goes (steps.jsonl → steps.live.json)."""
    return records_path.with_name(records_path.stem + ".live.json")


def tier_of(request_type: str) -> str:
    lowered = request_type.lower()
    return lowered if lowered in TIERS else "http"


class StepRecorder:
    def __init__(self, plan: Plan, clock: PlanClock, out_path: Path | None) -> None:
        self.plan = plan
        self.clock = clock
        self.out_path = out_path
        self._histograms: dict[tuple[int, str], HdrHistogram] = {}
        self._errors: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
        self._flushed: set[int] = set()
        self._cpu: dict[int, float] = {}
        self._cpu_started: set[int] = set()
        self._users: dict[int, int] = {}
        self.late_samples = 0
        self._late: Counter[int] = Counter()  # per step: samples that came after its line was written
        self._process = psutil.Process()
        # Probe threads report while the main thread flushes.
        self._lock = threading.Lock()
        # The last few seconds, for the engine's live console line.
        self._live: dict[str, HdrHistogram] = {}
        self._live_errors: Counter[str] = Counter()
        self._live_since = time.time()

    def on_request(self, request_type: str, name: str, response_time: float,
                   exception: BaseException | None = None, start_time: float | None = None,
                   **_: Any) -> None:
        started = start_time if start_time is not None else time.time() - (response_time or 0) / 1000.0
        elapsed = self.clock.elapsed(started)
        if elapsed is None:
            return
        tier = tier_of(request_type)
        self._record_live(tier, float(response_time), exception)
        step = step_for_sample(self.plan, elapsed)
        if step is None:
            return
        key = (step.index, tier)
        with self._lock:
            if step.index in self._flushed:
                self.late_samples += 1
                self._late[step.index] += 1
            elif exception is not None:
                self._errors[key][name] += 1
            else:
                if key not in self._histograms:
                    self._histograms[key] = new_histogram()
                record_ms(self._histograms[key], float(response_time))

    def _record_live(self, tier: str, response_time: float, exception: BaseException | None) -> None:
        with self._lock:
            if exception is not None:
                self._live_errors[tier] += 1
                return
            if tier not in self._live:
                self._live[tier] = new_histogram()
            record_ms(self._live[tier], response_time)

    def tick(self, user_count: int) -> list[int]:
        """Called a few times a second: CPU sampling at window edges, due flushes, live snapshots."""
        elapsed = self.clock.elapsed()
        if elapsed is None:
            return []
        if time.time() - self._live_since >= LIVE_PERIOD_S:
            self._write_live()
        written = []
        for step in self.plan.steps:
            if step.index not in self._cpu_started and elapsed >= step.window_start_s:
                self._process.cpu_percent(None)  # starts the measurement interval
                self._cpu_started.add(step.index)
            if step.index not in self._cpu and elapsed >= step.end_s:
                self._cpu[step.index] = self._process.cpu_percent(None)
                self._users[step.index] = user_count
            if step.index not in self._flushed and elapsed >= step.flush_s:
                self._write(step.index)
                written.append(step.index)
        return written

    def record_of(self, index: int) -> dict[str, Any]:
        tiers: dict[str, Any] = {}
        for tier in TIERS:
            histogram = self._histograms.get((index, tier))
            errors = self._errors.get((index, tier), Counter())
            if histogram is None and not errors:
                continue
            tiers[tier] = {
                "hdr": encode(histogram) if histogram is not None else None,
                "errors": sum(errors.values()),
                "error_kinds": dict(errors),
            }
        step = self.plan.steps[index - 1]
        t0 = self.clock.t0() or 0.0
        return {
            "index": index,
            "window": [t0 + step.window_start_s, t0 + step.end_s],
            "users": self._users.get(index),
            "generator_cpu_percent": self._cpu.get(index),
            "tiers": tiers,
            # Cumulative, so each line also tells how many replies missed earlier lines.
            "late": {str(step_index): count for step_index, count in self._late.items()},
        }

    def _write_live(self) -> None:
        """The last LIVE_PERIOD_S seconds as a step-shaped line (index 0), replacing the previous one."""
        with self._lock:
            now = time.time()
            tiers = {tier: {"hdr": encode(h), "errors": self._live_errors.get(tier, 0), "error_kinds": {}}
                     for tier, h in self._live.items()}
            for tier, errors in self._live_errors.items():
                tiers.setdefault(tier, {"hdr": None, "errors": errors, "error_kinds": {}})
            line = {"index": 0, "window": [self._live_since, now], "tiers": tiers}
            self._live, self._live_errors, self._live_since = {}, Counter(), now
        if self.out_path is None:
            return
        path = live_path(self.out_path)
        partial = path.with_suffix(".tmp")
        partial.write_text(json.dumps(line))
        partial.replace(path)

    def _write(self, index: int) -> None:
        with self._lock:
            self._flushed.add(index)
            record = self.record_of(index)
            for key in [k for k in self._histograms if k[0] == index]:
                del self._histograms[key]
        if self.out_path is None:
            return
        with open(self.out_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
