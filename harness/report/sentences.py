"""What a run says in sentences: breaking points and causes, doubts, stops, incidents (pure).

report.md and report.html say the same things in their own markup; the words
live here once, as plain text, and each format only wraps them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from harness.record import StepRecord
from harness.results import RunStatus, RunSummary
from harness.slo import Verdict

CAUSE_WORDS = {"fault": "fault", "load": "load: the store itself is slow",
               "host": "host: this machine cannot judge this SLO at this load"}


def is_partial(summary: RunSummary) -> bool:
    return summary.status != RunStatus.COMPLETED or len(summary.steps) < summary.planned_steps


def partial_sentence(summary: RunSummary) -> str:
    """``2 of 3 steps completed (aborted: stopped early: …).``"""
    return (f"{len(summary.steps)} of {summary.planned_steps} steps completed"
            f" ({summary.status.value}: {summary.reason or 'no reason recorded'}).")


def flags_text(step: StepRecord) -> str:
    return f" [flags: {'; '.join(step.flags)}]" if step.flags else ""


def breaking_points(summary: RunSummary) -> list[str]:
    """For each tier, the first step whose SLO failed, in a sentence with its cause (never on an inconclusive)."""
    sentences = []
    tiers = sorted({tier for step in summary.steps for tier in step.slo})
    for tier in tiers:
        failed = [s for s in summary.steps if s.slo.get(tier) == Verdict.FAIL]
        if not failed:
            continue
        first = failed[0]
        held = [s for s in summary.steps if s.index < first.index and s.slo.get(tier) == Verdict.PASS]
        faults = "; ".join(t.describe() for t in first.toxics) or "no fault"
        cause = first.cause.get(tier)
        before = f"holds up to {held[-1].users} users, " if held else ""
        sentences.append(f"{tier} ({summary.slos.get(tier, '')}) {before}breaks at step {first.index} "
                         f"({first.users} users, {faults})"
                         f"{f' ({CAUSE_WORDS.get(cause.value, cause.value)})' if cause else ''}: "
                         f"{'; '.join(first.reasons.get(tier, []))}{flags_text(first)}")
    return sentences


def holding_sentences(summary: RunSummary) -> list[str]:
    """For each tier that never failed: how far it held, and how many of its verdicts were not decided."""
    sentences = []
    for tier in sorted({tier for step in summary.steps for tier in step.slo}):
        verdicts = [(s, s.slo[tier]) for s in summary.steps if tier in s.slo]
        if any(v == Verdict.FAIL for _, v in verdicts):
            continue
        held = [s for s, v in verdicts if v == Verdict.PASS]
        other = len(verdicts) - len(held)
        if not held:
            sentences.append(f"{tier} ({summary.slos.get(tier, '')}) was never judged with confidence")
            continue
        most = max(held, key=lambda s: (s.users, s.index))
        faults = "; ".join(t.describe() for t in most.toxics) or "no fault"
        rest = f"; {other} of its {len(verdicts)} verdicts not decided" if other else ""
        sentences.append(f"{tier} ({summary.slos.get(tier, '')}) holds in every step judged, up to "
                         f"{most.users} users ({faults}){rest}")
    return sentences


def inconclusive_sentences(summary: RunSummary) -> list[str]:
    sentences = []
    for step in summary.steps:
        for tier, verdict in step.slo.items():
            if verdict != Verdict.INCONCLUSIVE:
                continue
            cause = step.cause.get(tier)
            why = f" ({CAUSE_WORDS[cause.value]})" if cause else ""
            host = step.host
            noise = (f"; host noise: hiccup p99 {host.hiccup_p99_ms:g} / p99.9 {host.hiccup_p999_ms:g} ms, "
                     f"CPU {host.cpu_busy_percent or 0:.0f}%") if host and host.hiccup_p999_ms is not None else ""
            sentences.append(f"step {step.index} ({step.users} users) {tier}{why}: "
                             f"{'; '.join(step.reasons.get(tier, []))}{noise}{flags_text(step)}")
    return sentences


def when(summary: RunSummary, at: float) -> str:
    """``12:00:05 UTC (t+5.0 s)``: the wall clock, and the time since the run started."""
    clock = datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S UTC")
    return clock if summary.started_at is None else f"{clock} (t+{at - summary.started_at:.1f} s)"


def stop_sentence(summary: RunSummary) -> tuple[str, str] | None:
    """What stopped the run, as (the condition's name, what happened and when); None if nothing did."""
    stop = summary.stopped_by
    if stop is None:
        return None
    where = f" in step {stop.step}" if stop.step is not None else ""
    if stop.kind == "store-crash":
        said = f"{stop.description} at {when(summary, stop.at)}{where}."
        name = "on_store_crash: stop"
    else:
        values = f" Values of each live snapshot: {', '.join(stop.shown_values)}." if stop.shown_values else ""
        said = (f"{stop.description}: passed from {when(summary, stop.since)} until it fired at "
                f"{when(summary, stop.at)}{where}, {stop.held_s:g} s.{values}")
        name = stop.condition
    return name, said + " Every fault was reverted at once."


def incident_sentences(summary: RunSummary) -> list[str]:
    sentences = []
    for incident in summary.incidents:
        where = f", step {incident.step}" if incident.step is not None else ""
        if incident.kind == "toxiproxy":
            sentences.append(f"{when(summary, incident.began_at)}{where}: Toxiproxy unusable for "
                             f"{incident.gap_s or 0:.1f} s ({incident.what}); {'; '.join(incident.actions)}")
        else:
            sentences.append(f"{when(summary, incident.began_at)}{where}: {incident.what}; "
                             f"{'; '.join(incident.actions)}")
    return sentences


def recovery_after(recovery_s: float | None, resolution_s: float, watched_s: float) -> str:
    return f"{recovery_s:g} s (±{resolution_s:g} s)" if recovery_s is not None else f"not within {watched_s:g} s"
