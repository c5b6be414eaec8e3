"""Hand-made runs for tests of what reads run folders (compare, history): real models, real journals."""

from __future__ import annotations

import json
from pathlib import Path

from harness.journal import Journal
from harness.record import StepRecord, TierReport, ToxicView
from harness.results import RunSummary, summarize_journal
from harness.slo import Verdict

PASS, FAIL, INC, NO_DATA = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NO_DATA
SLOS = {"redis": "p99 < 1 ms", "clickhouse": "p95 < 500 ms"}


def latency(ms: int, link: str = "clickhouse") -> ToxicView:
    return ToxicView(link=link, type="latency", stream="downstream", toxicity=1.0,
                     attributes={"latency": ms, "jitter": 0}, level=f"latency {ms} ms")


def measured(p50: float, p95: float, p99: float, count: int = 1000) -> TierReport:
    return TierReport(count=count, errors=0, p50_ms=p50, p95_ms=p95, p99_ms=p99)


def step(index: int, users: int, slo: dict[str, Verdict], tiers: dict[str, TierReport] | None = None,
         toxics: list[ToxicView] | None = None) -> StepRecord:
    return StepRecord(index=index, users=users, toxics=toxics or [], window=None, tiers=tiers or {}, slo=slo,
                      reasons={}, flags=[], generator_cpu_percent=None)


def write_run(folder: Path, steps: list[StepRecord], *, experiment: str = "ch-latency", status: str | None = "completed",
              planned: int | None = None, started_at: float | None = None, slos: dict[str, str] | None = None
              ) -> Path:
    """A run folder holding a journal of ``steps``; ``status`` None: killed before its run-end."""
    journal = Journal(folder / "journal.jsonl")
    journal.append("run-start", experiment=experiment, run_id=folder.name, backend="local",
                   planned_steps=len(steps) if planned is None else planned, slos=SLOS if slos is None else slos)
    for record in steps:
        journal.append("step", record=record)
    if status is not None:
        journal.append("run-end", status=status, reason=None)
    if started_at is not None:  # rewrite the first event's time: runs of one test are not seconds apart
        lines = (folder / "journal.jsonl").read_text().splitlines()
        first = json.loads(lines[0]) | {"at": started_at}
        (folder / "journal.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    return folder


def summary_of(folder: Path) -> RunSummary:
    return summarize_journal(folder / "journal.jsonl")


BASELINE_STEPS = [
    step(1, 5, {"redis": PASS, "clickhouse": PASS},
         {"redis": measured(0.3, 0.5, 0.8), "clickhouse": measured(40, 60, 80)}),
    step(2, 10, {"redis": PASS, "clickhouse": PASS},
         {"redis": measured(0.3, 0.6, 0.9), "clickhouse": measured(140, 160, 180)}, [latency(100)]),
    step(3, 10, {"redis": INC, "clickhouse": PASS},
         {"redis": measured(0.4, 0.8, 1.1), "clickhouse": measured(240, 300, 420)}, [latency(200)]),
]
