"""Everything report.html is drawn from, read once: the summary, the journal's timeline, the SLOs as numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.journal import read_journal
from harness.report.timeline import Timeline, read_timeline
from harness.results import RunSummary
from harness.spec import TierSlo
from harness.tiers import TIERS


@dataclass(frozen=True)
class ReportContext:
    summary: RunSummary
    timeline: Timeline
    slos: dict[str, TierSlo]  # per tier, as numbers (the summary has them in words only)
    experiment_yaml: str | None = None  # the experiment as run (its file in the run folder)
    missing: list[str] = field(default_factory=list)  # what could not be read, said at the top

    @property
    def is_gameday(self) -> bool:
        return self.summary.schedule == "gameday"

    @property
    def timeline_first(self) -> bool:
        """A game day, or a run cut before its first step: what happened over time is all there is."""
        return self.is_gameday or not self.summary.steps

    def tiers(self) -> list[str]:
        """Tiers in report order: those whose link carried a fault first (what the run is about), then the rest."""
        seen = {tier for step in self.summary.steps for tier in (*step.tiers, *step.slo)} | set(self.summary.slos)
        faulted = [t.link for step in self.summary.steps for t in step.toxics]
        order = list(dict.fromkeys([*faulted, *TIERS, *sorted(seen)]))
        return [tier for tier in order if tier in seen]

    def percentile(self, tier: str) -> float:
        """The percentile a tier's SLO bounds (the highest if several); p95 for an error-only SLO."""
        slo = self.slos.get(tier)
        bounds = slo.bounds() if slo else {}
        return max(bounds) if bounds else 95.0


def read_context(summary: RunSummary, folder: Path) -> ReportContext:
    events = read_journal(folder / "journal.jsonl")
    start = next((e for e in events if e.get("event") == "run-start"), {})
    slos, missing = _slos(start.get("slo_bounds") or {})
    timeline = read_timeline(events, summary.steps)
    if timeline.unreadable:
        missing.append(f"{timeline.unreadable} journal events could not be read and are left out of the timeline")
    experiment = folder / "experiment.yaml"
    text = experiment.read_text(encoding="utf-8", errors="replace") if experiment.is_file() else None
    return ReportContext(summary=summary, timeline=timeline, slos=slos, experiment_yaml=text, missing=missing)


def _slos(bounds: dict[str, Any]) -> tuple[dict[str, TierSlo], list[str]]:
    slos, missing = {}, []
    for tier, value in bounds.items():
        try:
            slos[tier] = TierSlo.model_validate(value)
        except ValidationError:
            missing.append(f"the {tier} SLO's bounds could not be read: its line is not drawn")
    return slos, missing
