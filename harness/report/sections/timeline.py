"""The run over time: the timeline chart and, under it, what each numbered marker was."""

from __future__ import annotations

from harness.report.charts.timeline import timeline_chart
from harness.report.context import ReportContext
from harness.report.page import figure, paragraph, table
from harness.report.sections import Section
from harness.report.timeline import Timeline, ticks_from_steps


def timeline(ctx: ReportContext) -> Section | None:
    line = ctx.timeline
    note = ""
    if not line.ticks and ctx.summary.steps:
        # A journal from before live windows were journaled: one point per step's window instead.
        line = line.model_copy(update={"ticks": ticks_from_steps(ctx.summary.steps)})
        note = paragraph("This journal holds no live windows: each point is a whole step's window.", "missing")
    if not line.ticks and not line.markers:
        return Section("timeline", "Timeline", paragraph("Nothing was measured over time: no live window, "
                                                         "no step, no event to draw.", "missing"))
    percentiles = {tier: ctx.percentile(tier) for tier in ctx.tiers()}
    bounds = {tier: slo.bounds()[percentiles[tier]] for tier, slo in ctx.slos.items()
              if tier in percentiles and percentiles[tier] in slo.bounds()}
    chart = timeline_chart(line, percentiles, bounds)
    body = note + (figure(chart, "Latency per tier over time (ms; each tier's SLO percentile), users and failed "
                                 "calls below; shaded: step windows, numbered lines: the events listed below.")
                   if chart else "")
    body += _markers(line) if line.markers else paragraph("No toxic change, stop, incident or annotation.",
                                                         "missing")
    return Section("timeline", "Timeline", body)


def _markers(line: Timeline) -> str:
    rows = [(number, f"{line.seconds(marker.at):.1f} s", marker.kind, marker.text)
            for number, marker in enumerate(line.markers, start=1)]
    return table(["#", "time", "kind", "what"], rows)
