"""The top of the report, what fits in the first screen: verdict, score, a partial run's banner, what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.report.context import ReportContext
from harness.report.page import esc
from harness.report.sentences import is_partial, partial_sentence, stop_sentence


def header(ctx: ReportContext) -> str:
    summary = ctx.summary
    parts = [f"<h1>Resilience report: {esc(summary.experiment)}</h1>",
             '<div class="lead">', f'<span class="verdict {esc(summary.verdict.value)}" id="verdict">'
             f"Verdict: {esc(summary.verdict.value.upper())}</span>"]
    parts += _score(summary)
    parts.append("</div>")
    parts.append(f'<p class="meta">{esc(_meta(ctx))}</p>')
    if summary.verdict.value != summary.verdicts_reached.value and summary.steps:
        parts.append(f'<p class="meta">Verdicts reached before it stopped: {esc(summary.verdicts_reached.value)}</p>')
    if is_partial(summary):
        parts.append(f'<div class="banner" role="alert" id="partial"><strong>Partial run:</strong> '
                     f"{esc(partial_sentence(summary))} {esc(_where(ctx))}</div>")
    stop = stop_sentence(summary)
    if stop is not None:
        name, text = stop
        parts.append(f'<div class="banner" role="alert"><strong>Stopped by {esc(name)}:</strong> {esc(text)}</div>')
    parts += [f'<p class="note">{esc(line)}</p>' for line in [*ctx.missing, *_missing(ctx)]]
    return "".join(parts)


def _score(summary: object) -> list[str]:
    """The score when the summary carries one (``harness.score.Score``); read defensively, it may be absent."""
    score = getattr(summary, "score", None)
    if score is None:
        return []
    value = getattr(score, "value", None)
    shown = "none" if value is None else f"{value:g}/100"
    detail = score.detail() if hasattr(score, "detail") else ""
    return [f'<span class="score" id="score">Resilience score: {esc(shown)}</span>',
            f'<span class="meta">{esc(detail)}</span>' if detail else ""]


def _meta(ctx: ReportContext) -> str:
    summary = ctx.summary
    started = (datetime.fromtimestamp(summary.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
               if summary.started_at else "start unknown")
    took = (f", {summary.ended_at - summary.started_at:.0f} s" if summary.started_at and summary.ended_at else "")
    steps = ("game day" if ctx.is_gameday and not summary.steps
             else f"{len(summary.steps)} of {summary.planned_steps} steps")
    return (f"status {summary.status.value} · backend {summary.backend} · {steps} · schedule {summary.schedule} · "
            f"run {summary.run_id} · {started}{took}")


def _where(ctx: ReportContext) -> str:
    """Where the run was when it stopped: its last recorded step, and the step it was in."""
    summary = ctx.summary
    last = summary.steps[-1] if summary.steps else None
    began = [span for span in ctx.timeline.spans if not last or span.index > last.index]
    said = (f"Last step recorded: step {last.index} ({last.users} users)." if last
            else "No step was recorded.")
    if began:
        said += f" It stopped during step {began[-1].index} ({began[-1].users} users), which is not judged."
    return said


def _missing(ctx: ReportContext) -> list[str]:
    summary = ctx.summary
    if ctx.is_gameday and not summary.steps:
        return [] if ctx.timeline.ticks else ["No live window was journaled: nothing was measured over time."]
    if not summary.steps:
        return ["No step completed: nothing was judged, and the per-step charts are left out."]
    said = []
    for tier in ctx.tiers():
        if not any((r := s.tiers.get(tier)) is not None and r.count for s in summary.steps):
            said.append(f"No {tier} samples in any step: its chart is left out.")
    return said
