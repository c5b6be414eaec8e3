"""Per-step, per-tier, per-path HDR histograms, written as one ``StepLine`` per step.

Every sample reaches the recorder as a Locust ``request`` event. Its tier is
the request type when that names a tier (probes and the WebSocket viewer fire
them so), otherwise ``http``; its path is ``context["path"]`` (``control``
for samples through a link's control proxy, else ``faulted``). Paced probes
also give ``context["service_ms"]``, the call timed from its actual send,
while ``response_time`` counts from the intended send (open model).

The sample belongs to the step whose measurement window holds its start time;
samples outside every window (settling, warm-up) are not recorded. At each
step's flush time the recorder appends that step's line to ``steps.jsonl``
and fsyncs it (``locustfiles.outputs``); a Locust worker's recorder sends it to
the master instead.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psutil
from hdrh.histogram import HdrHistogram

from harness.contract import SERIES_FIELDS, Series, StepLine, TierSeries, live_cut_after
from harness.histogram import encode, new_histogram, record_ms
from harness.plan import Plan, step_for_sample
from harness.tiers import TIERS
from locustfiles.loadplan import PlanClock
from locustfiles.outputs import FileOutput, LineOutput, NoOutput

HICCUP = "hiccup"
_TIERS = frozenset(TIERS)

Key = tuple[int, str, str]  # (step index, tier, series field)


def tier_of(request_type: str) -> str:
    lowered = request_type.lower()
    return lowered if lowered in _TIERS else "http"


class StepRecorder:
    def __init__(self, plan: Plan, clock: PlanClock, out_path: Path | None = None,
                 output: LineOutput | None = None) -> None:
        self.plan = plan
        self.clock = clock
        self.out_path = out_path
        # Where lines go: the file at out_path, or (a Locust worker) the master.
        self.output: LineOutput = output or (FileOutput(out_path) if out_path is not None else NoOutput())
        self._histograms: dict[Key, HdrHistogram] = {}
        self._errors: dict[Key, Counter[str]] = defaultdict(Counter)
        self._flushed: set[int] = set()
        self._cpu: dict[int, float] = {}
        self._cpu_started: set[int] = set()
        self._users: dict[int, int] = {}
        # The users of the last tick before now: at a window's end the next step may already be spawning.
        self._count_before: int | None = None
        self.late_samples = 0
        self._late: Counter[int] = Counter()  # per step: samples that came after its line was written
        self._process = psutil.Process()
        # Probe threads report while the main thread flushes.
        self._lock = threading.Lock()
        # The last few seconds, for the engine's live console line and /metrics. Snapshots end at
        # plan times every load process shares (harness.contract.live_cut_after), not at its own.
        self._live: dict[tuple[str, str], HdrHistogram] = {}
        self._live_errors: Counter[tuple[str, str]] = Counter()
        self._live_since = time.time()
        self._live_cut: float | None = None  # plan time the running snapshot ends at
        self._windows = [(step.window_start_s, step.end_s, step.index) for step in plan.steps]

    def use_plan(self, plan: Plan) -> None:
        """A Locust worker learns the plan from its master after it started (before any sample counts)."""
        with self._lock:
            self.plan = plan
            self._windows = [(step.window_start_s, step.end_s, step.index) for step in plan.steps]

    def on_request(self, request_type: str, name: str, response_time: float,
                   exception: BaseException | None = None, start_time: float | None = None,
                   context: dict[str, Any] | None = None, **_: Any) -> None:
        # The load generator's hot path (thousands of calls a second on one core):
        # one lock, one window lookup, no allocation beyond the histograms' own.
        started = start_time if start_time is not None else time.time() - (response_time or 0) / 1000.0
        t0 = self.clock.t0()
        if t0 is None:
            return
        tier = request_type if request_type in _TIERS else tier_of(request_type)
        path = "control" if context and context.get("path") == "control" else "faulted"
        elapsed = started - t0
        index = 0
        for window_start, end, step_index in self._windows:
            if window_start <= elapsed < end:
                index = step_index
                break
        live_key = (tier, path)
        with self._lock:
            if exception is not None:
                self._live_errors[live_key] += 1
            else:
                histogram = self._live.get(live_key)
                if histogram is None:
                    histogram = self._live[live_key] = new_histogram()
                record_ms(histogram, response_time)
            if not index:
                return
            if index in self._flushed:
                self.late_samples += 1
                self._late[index] += 1
            elif exception is not None:
                self._errors[(index, tier, path)][name] += 1
            else:
                self._record((index, tier, path), response_time)
                service_ms = context.get("service_ms") if context else None
                if service_ms is not None:
                    self._record((index, tier, f"{path}_service"), service_ms)

    def on_hiccup(self, lateness_ms: float, at: float | None = None) -> None:
        """How late a 1 ms sleep of the hiccup meter woke (host noise), in the step it woke in."""
        elapsed = self.clock.elapsed(at)
        step = step_for_sample(self.plan, elapsed) if elapsed is not None else None
        if step is None:
            return
        with self._lock:
            if step.index not in self._flushed:
                self._record((step.index, HICCUP, "faulted"), lateness_ms)

    def _record(self, key: Key, value_ms: float) -> None:
        histogram = self._histograms.get(key)
        if histogram is None:
            histogram = self._histograms[key] = new_histogram()
        record_ms(histogram, value_ms)

    def tick(self, user_count: int) -> list[int]:
        """Called a few times a second: CPU sampling at window edges, due flushes, live snapshots."""
        elapsed = self.clock.elapsed()
        if elapsed is None:
            return []
        if self._live_cut is None:
            self._live_cut = live_cut_after(self.plan, elapsed)
        elif elapsed >= self._live_cut:
            # Samples of the last tick (0.1 s) past the cut go with it: the cut is a plan time, not a moment.
            self._write_live(user_count, self._live_cut)
            self._live_cut = live_cut_after(self.plan, elapsed)
        written = []
        for step in self.plan.steps:
            if step.index not in self._cpu_started and elapsed >= step.window_start_s:
                self._process.cpu_percent(None)  # starts the measurement interval
                self._cpu_started.add(step.index)
            if step.index not in self._cpu and elapsed >= step.end_s:
                self._cpu[step.index] = self._process.cpu_percent(None)
                # The window closes as the next step starts: its spawning may already show in this
                # tick's count (a worker caught at 10 of the next step's 12), never in the tick before.
                self._users[step.index] = user_count if self._count_before is None else self._count_before
            if step.index not in self._flushed and elapsed >= step.flush_s:
                self._write(step.index)
                written.append(step.index)
        self._count_before = user_count
        return written

    def line_of(self, index: int) -> StepLine:
        tiers: dict[str, TierSeries] = {}
        for tier in TIERS:
            fields = {field: self._series((index, tier, field)) for field in SERIES_FIELDS}
            if any(fields.values()):
                tiers[tier] = TierSeries(**{**fields, "faulted": fields["faulted"] or Series()})
        step = self.plan.steps[index - 1]
        t0 = self.clock.t0() or 0.0
        return StepLine(
            index=index,
            window=(t0 + step.window_start_s, t0 + step.end_s),
            users=self._users.get(index),
            generator_cpu_percent=self._cpu.get(index),
            tiers=tiers,
            hiccup=self._series((index, HICCUP, "faulted")),
            # Cumulative, so each line also tells how many replies missed earlier lines.
            late={str(step_index): count for step_index, count in self._late.items()},
        )

    def _series(self, key: Key) -> Series | None:
        histogram = self._histograms.get(key)
        errors = self._errors.get(key)
        if histogram is None and not errors:
            return None
        return Series(hdr=encode(histogram) if histogram is not None else None,
                      errors=sum(errors.values()) if errors else 0, error_kinds=dict(errors or {}))

    def _write_live(self, user_count: int, cut_s: float) -> None:
        """The samples since the last cut as a step-shaped line (index 0), replacing the previous one."""
        with self._lock:
            now = (self.clock.t0() or 0.0) + cut_s
            # Only what got samples; the histograms are kept and zeroed, not dropped: a fresh one
            # (~150 KB of counts) every few seconds fragments the heap and the process's memory
            # creeps up for as long as it runs (make bench --only soak).
            filled = {key: histogram for key, histogram in self._live.items() if histogram.total_count}
            keys = set(filled) | set(self._live_errors)
            per_tier: dict[str, dict[str, Series]] = defaultdict(dict)
            for tier, path in keys:
                histogram = filled.get((tier, path))
                per_tier[tier][path] = Series(hdr=encode(histogram) if histogram is not None else None,
                                              errors=self._live_errors.get((tier, path), 0))
            line = StepLine(index=0, window=(self._live_since, now), users=user_count or None, tiers={
                tier: TierSeries(faulted=paths.get("faulted") or Series(), control=paths.get("control"))
                for tier, paths in per_tier.items()})
            for histogram in filled.values():
                histogram.reset()
            self._live_errors, self._live_since = Counter(), now
        self.output.live(line)

    def _write(self, index: int) -> None:
        with self._lock:
            self._flushed.add(index)
            line = self.line_of(index)
            for key in [k for k in self._histograms if k[0] == index]:
                del self._histograms[key]
        self.output.step(line)
