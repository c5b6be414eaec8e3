"""Per tier: the latency chart against users, then its numbers per step."""

from __future__ import annotations

from harness.record import StepRecord
from harness.report.charts.percentiles import fault_label, percentile_chart
from harness.report.context import ReportContext
from harness.report.page import Cell, esc, figure, number, paragraph, table, verdict_tag
from harness.report.sections import Section

FOLD_AFTER_STEPS = 8
HEADER = ["step", "users", "fault", "n", "errors", "p50 ms", "p95 ms", "p99 ms", "{judged} 95 % CI ms",
          "control p50 ms", "control p99 ms", "verdict", "flags"]


def tiers(ctx: ReportContext) -> Section | None:
    summary = ctx.summary
    if not summary.steps:
        return None
    parts = [paragraph("The faulted path is what users' requests take; the control path reaches the same store "
                       "through a proxy that never carries a toxic, so the gap between them is the fault's. "
                       "Bands: the judged percentile's 95 % confidence interval. Marked: failed, inconclusive and "
                       "flagged steps (their measurement is not trusted; see Host).", "meta")]
    for tier in ctx.tiers():
        slo_text = summary.slos.get(tier, "")
        chart = percentile_chart(tier, summary.steps, ctx.slos.get(tier), slo_text)
        parts.append(f'<h3 id="tier-{esc(tier)}">{esc(tier)} <span class="meta">SLO {esc(slo_text or "none")}</span></h3>')
        if chart is None:
            parts.append(paragraph(f"No {tier} samples in any step: nothing to draw.", "missing"))
        else:
            parts.append(figure(chart, f"{tier}: p50, p95 and p99 (ms) per step against users, control path "
                                       "dashed grey, SLO dotted black."))
        header = [name.format(judged=f"p{ctx.percentile(tier):g}") for name in HEADER]
        rows = table(header, [_row(step, tier) for step in summary.steps if tier in step.tiers or tier in step.slo])
        # A long run's tables would bury the next chart: folded, one click away (and in steps.csv).
        folded = len(summary.steps) > FOLD_AFTER_STEPS
        parts.append(f"<details{'' if folded else ' open'}><summary>{esc(tier)}: numbers per step</summary>"
                     f"{rows}</details>")
    return Section("tiers", "Latency per tier", "".join(parts))


def _row(step: StepRecord, tier: str) -> list[object]:
    result = step.tiers.get(tier)
    verdict = step.slo.get(tier)
    cause = step.cause.get(tier)
    tag = Cell(verdict_tag(verdict.value, cause.value if cause else None), markup=True) if verdict else "–"
    if result is None or not result.count:
        errors = result.errors if result else 0
        return [step.index, step.users, fault_label(step), 0, errors, "no samples", "", "", "", "", "", tag,
                "; ".join(step.flags)]
    ci = "–"
    if result.ci_ms is not None:
        low, high = result.ci_ms
        ci = f"{low:.3g}–{'∞' if high is None else f'{high:.3g}'}"
    control = result.control if result.control is not None and result.control.count else None
    return [step.index, step.users, fault_label(step), result.count, result.errors,
            Cell(number(result.p50_ms), numeric=True), Cell(number(result.p95_ms), numeric=True),
            Cell(number(result.p99_ms), numeric=True), Cell(ci, numeric=True),
            Cell(number(control.p50_ms if control else None), numeric=True),
            Cell(number(control.p99_ms if control else None), numeric=True), tag, "; ".join(step.flags)]
