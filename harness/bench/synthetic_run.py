"""A run folder made without running anything: a journal as a real run writes it, from seeded samples.

For measuring what reading a run costs (rendering its report) at the size of
a long run, and for tests of the report: a ramp of ``steps`` steps with
ClickHouse latency rising step by step, every tier measured on its faulted
and control paths, host noise, WebSocket defects, and a live window every
5 s, journaled as LiveWindow journals itself. Times are fixed (not now), so
the same arguments give the same folder.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from harness.contract import LIVE_PERIOD_S, Series, StepLine, TierSeries
from harness.events import LivePath, LiveTier, RunStarted, StepRecorded, ToxicChange, ToxicsApplied
from harness.histogram import encode, new_histogram, record_ms
from harness.plan import Plan, build_plan
from harness.record import build_record
from harness.spec import Experiment, TierSlo

SLOS = {"redis": TierSlo(p99_ms=1), "materialize": TierSlo(p99_ms=10), "clickhouse": TierSlo(p95_ms=500),
        "websocket": TierSlo(p95_ms=200), "http": TierSlo(error_ratio=0.01)}
# Typical medians on this machine kind (ms) and how far their tails reach.
BASE_MS = {"redis": 0.4, "materialize": 2.0, "clickhouse": 40.0, "websocket": 30.0, "http": 20.0}
T0 = 1_800_000_000.0
NOTE = ("local backend: PostgreSQL stands in for Materialize (same wire protocol); "
        "materialize-tier numbers are PostgreSQL's")


def experiment(steps: int, step_s: float = 60.0, settle_s: float = 10.0) -> Experiment:
    users = [5, 10, 25, 50, 100]
    return Experiment.model_validate({
        "name": "synthetic-clickhouse-latency",
        "ramp": {"users": [users[i % len(users)] for i in range(steps)], "step_s": step_s, "settle_s": settle_s},
        "faults": [{"link": "clickhouse", "type": "latency",
                    "levels": [None] + [{"latency_ms": 25 * i} for i in range(1, steps)]}],
        "slos": {tier: slo.model_dump(exclude_none=True) for tier, slo in SLOS.items()},
    })


def write_synthetic_run(folder: Path, steps: int = 25, step_s: float = 60.0, settle_s: float = 10.0,
                        seed: int = 7, end: bool = True) -> Path:
    """The run folder (journal.jsonl and experiment.yaml); ``end=False`` leaves it as a killed run leaves it."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = experiment(steps, step_s, settle_s)
    plan = build_plan(spec)
    rng = random.Random(seed)
    (folder / "experiment.yaml").write_text(json.dumps(spec.model_dump(mode="json"), indent=2))
    lines: list[dict[str, Any]] = []

    def add(at: float, kind: str, fields: dict[str, Any]) -> None:
        lines.append({"event": kind, "at": at, **fields})

    run_id = f"20270115T080000Z-{spec.name}"
    add(T0 - 20, "run-start", RunStarted(
        experiment=spec.name, run_id=run_id, backend="local", planned_steps=len(plan.steps),
        slos={tier: slo.describe() for tier, slo in SLOS.items()}, slo_bounds=SLOS, plan=plan, probes={},
        folder=folder).fields())
    # What the report reads of a stack-up (its endpoints are the run's business, not the report's).
    add(T0 - 10, "stack-up", {"backend": "local", "notes": [NOTE],
                              "versions": {"toxiproxy": "2.12.0", "redis": "7.0.15", "clickhouse": "18.16.1"}})
    add(T0, "clock", {"t0": T0})
    active: list[Any] = []
    for step in plan.steps:
        changes = [ToxicChange(kind="update" if active else "add", toxic=t) for t in step.toxics]
        add(T0 + step.start_s, "toxics", ToxicsApplied(step=step.index, total_steps=len(plan.steps), users=step.users,
                                                       toxics=step.toxics, changes=changes,
                                                       active=step.toxics).fields())
        active = list(step.toxics)
        added_ms = float(sum(t.attributes.get("latency", 0) for t in step.toxics))
        for at, window in _live_windows(plan, step.index, rng, added_ms):
            add(at, "live", window)
        measured = _line(step.index, (T0 + step.window_start_s, T0 + step.end_s), step.users, rng, added_ms, 400)
        add(T0 + step.flush_s, "step", StepRecorded(record=build_record(step, measured, SLOS)).fields())
    if end:
        add(T0 + plan.duration_s + 1, "toxics-cleared", {"removed": ["ff-clickhouse-latency-downstream"]})
        add(T0 + plan.duration_s + 2, "run-end", {"status": "completed", "reason": None})
    with open(folder / "journal.jsonl", "w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")
    return folder


def _live_windows(plan: Plan, index: int, rng: random.Random, added_ms: float) -> list[tuple[float, dict[str, Any]]]:
    """The step's live windows as the journal holds them (``LiveWindow.fields``), from samples directly.

    Percentiles come straight from sorted samples: encoding and decoding ~3,000
    histograms would make the folder take minutes, and the projection itself
    is tested on real histograms in tests/unit/test_events.py.
    """
    step = plan.steps[index - 1]
    windows = []
    start = step.start_s
    while start < step.flush_s - 1e-9:
        end = min(start + LIVE_PERIOD_S, step.flush_s)
        tiers = {}
        for tier, base in BASE_MS.items():
            extra = added_ms if tier == "clickhouse" else 0.0
            load = 1.0 + step.users / 100.0
            faulted = _path(rng, base * load, extra, rng.randrange(0, 2))
            tiers[tier] = LiveTier(**faulted.model_dump(), control=_path(rng, base * load, 0.0, 0))
        windows.append((T0 + end, {
            "window": [T0 + start, T0 + end], "users": step.users,
            "tiers": {tier: data.model_dump(mode="json", exclude_none=True) for tier, data in tiers.items()}}))
        start = end
    return windows


def _path(rng: random.Random, median_ms: float, added_ms: float, errors: int, samples: int = 60) -> LivePath:
    values = sorted(added_ms + median_ms * rng.lognormvariate(0.0, 0.45) for _ in range(samples))

    def at(share: float) -> float:
        return round(values[min(len(values) - 1, int(share * len(values)))], 3)

    return LivePath(count=samples, errors=errors, p50_ms=at(0.5), p95_ms=at(0.95), p99_ms=at(0.99))


def _line(index: int, window: tuple[float, float], users: int, rng: random.Random, added_ms: float,
          samples: int) -> StepLine:
    tiers = {}
    load = 1.0 + users / 100.0
    for tier, base in BASE_MS.items():
        extra = added_ms if tier == "clickhouse" else 0.0
        tiers[tier] = TierSeries(
            faulted=Series(hdr=_hdr(rng, base * load, extra, samples), errors=rng.randrange(0, 2)),
            control=Series(hdr=_hdr(rng, base * load, 0.0, samples)),
        )
    defects = {"lost": rng.randrange(0, 3), "duplicate": rng.randrange(0, 2), "out-of-order": rng.randrange(0, 2)}
    tiers["websocket"].faulted.error_kinds.update({k: v for k, v in defects.items() if v})
    hiccup = _hdr(rng, 0.08, 0.0, samples)
    return StepLine(index=index, window=window, users=users, generator_cpu_percent=10 + users / 4, tiers=tiers,
                    hiccup=Series(hdr=hiccup))


def _hdr(rng: random.Random, median_ms: float, added_ms: float, samples: int) -> str:
    histogram = new_histogram()
    for _ in range(samples):
        record_ms(histogram, added_ms + median_ms * rng.lognormvariate(0.0, 0.45))
    return encode(histogram)
