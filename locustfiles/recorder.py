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
        self._process = psutil.Process()
        # Probe threads report while the main thread flushes.
        self._lock = threading.Lock()

    def on_request(self, request_type: str, name: str, response_time: float,
                   exception: BaseException | None = None, start_time: float | None = None,
                   **_: Any) -> None:
        started = start_time if start_time is not None else time.time() - (response_time or 0) / 1000.0
        elapsed = self.clock.elapsed(started)
        if elapsed is None:
            return
        step = step_for_sample(self.plan, elapsed)
        if step is None:
            return
        tier = tier_of(request_type)
        key = (step.index, tier)
        with self._lock:
            if step.index in self._flushed:
                self.late_samples += 1
            elif exception is not None:
                self._errors[key][name] += 1
            else:
                if key not in self._histograms:
                    self._histograms[key] = new_histogram()
                record_ms(self._histograms[key], float(response_time))

    def tick(self, user_count: int) -> list[int]:
        """Called a few times a second: CPU sampling at window edges and due flushes."""
        elapsed = self.clock.elapsed()
        if elapsed is None:
            return []
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
        }

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
