"""report.md: the verdict, what broke where and why, and the step table, readable in a PR comment."""

from __future__ import annotations

from pathlib import Path

from harness.record import StepRecord, TierReport
from harness.report.sentences import (
    breaking_points,
    incident_sentences,
    inconclusive_sentences,
    is_partial,
    partial_sentence,
    recovery_after,
    stop_sentence,
)
from harness.results import RunSummary
from harness.slo import Verdict

MARK = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.INCONCLUSIVE: "❔", Verdict.NO_DATA: "–"}


def render_markdown(summary: RunSummary) -> str:
    lines = [f"# Resilience report: {summary.experiment}", ""]
    if summary.score is not None:
        lines += [f"**{summary.score.headline()}** ({summary.score.detail()})", ""]
    lines.append(f"**Verdict: {summary.verdict.value.upper()}** · status {summary.status.value} · "
                 f"backend {summary.backend} · run `{summary.run_id}`")
    if summary.verdict.value != summary.verdicts_reached.value:
        lines.append(f"(verdicts reached before it stopped: {summary.verdicts_reached.value})")
    lines.append("")
    if is_partial(summary):
        lines += [f"> **Partial run:** {partial_sentence(summary)}", ""]
    lines += stop_lines(summary)
    for note in summary.notes:
        lines.append(f"> {note}")
    if summary.notes:
        lines.append("")
    lines += ["## Breaking points", ""]
    if not summary.steps:
        lines.append("- no step completed: nothing was judged")
    else:
        lines += [f"- {sentence}" for sentence in breaking_points(summary)] or ["- none: no SLO failed"]
    undecided = inconclusive_sentences(summary)
    if undecided:
        lines += ["", "## Not judged with confidence", ""] + [f"- {s}" for s in undecided]
    effects = effect_rows(summary)
    if effects:
        lines += ["", "## Faults: requested and effective", "",
                  "| step | link | requested | effective added p50 | p95 |", "|---|---|---|---|---|"] + effects
    lines += incident_lines(summary) + recovery_lines(summary) + surface_lines(summary)
    lines += ["", "## Steps", "",
              "Each cell: the faulted path's percentiles with the judged percentile's 95 % interval, the control "
              "path (same store, no toxic), the backend's own view of its calls and the store's own view "
              "where they exist (ms).", ""]
    tiers = sorted({tier for step in summary.steps for tier in step.slo})
    header = ["step", "users", "toxics"] + [f"{tier} ({summary.slos.get(tier, '')})" for tier in tiers] + \
        ["host", "flags"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for step in summary.steps:
        toxics = "; ".join(t.describe() for t in step.toxics) or "none"
        cells = [str(step.index), str(step.users), toxics]
        cells += [_cell(step, tier) for tier in tiers]
        host = step.host
        cells.append("" if host is None or host.hiccup_p999_ms is None else
                     f"CPU {host.cpu_busy_percent or 0:.0f}% · steal {host.steal_percent or 0:.1f}% · "
                     f"hiccup p99.9 {host.hiccup_p999_ms:g} ms")
        cells.append("; ".join(step.flags) or "")
        lines.append("| " + " | ".join(cells) + " |")
    if summary.versions:
        lines += ["", "## What ran", ""]
        lines += [f"- {name}: {version}" for name, version in sorted(summary.versions.items())]
    return "\n".join(lines) + "\n"


def _cell(step: StepRecord, tier: str) -> str:
    result: TierReport | None = step.tiers.get(tier)
    verdict = step.slo.get(tier, Verdict.NO_DATA)
    cause = step.cause.get(tier)
    mark = MARK[verdict] + (f" ({cause.value})" if cause else "")
    if result is None or result.count == 0:
        return f"{mark} no samples" + (f", {result.errors} errors" if result else "")
    text = f"{mark} p50 {result.p50_ms:g} · p95 {result.p95_ms:g} · p99 {result.p99_ms:g} ms"
    if result.ci_ms is not None:
        low, high = result.ci_ms
        text += f" [CI {low:g}–{'∞' if high is None else f'{high:g}'}]"
    text += f" · n={result.count}" + (f" · {result.errors} err" if result.errors else "")
    if result.control is not None and result.control.count:
        text += f" · control p50 {result.control.p50_ms:g} / p99 {result.control.p99_ms:g}"
    if result.backend is not None and result.backend.p50_ms is not None:
        text += f" · backend p50 {result.backend.p50_ms:.3g}"
    if result.store is not None:
        store = result.store.p99_ms if result.store.p99_ms is not None else result.store.mean_ms
        if store is not None:
            label = "p99" if result.store.p99_ms is not None else "mean"
            text += f" · store {label} {store:.3g}"
    return text


def effect_rows(summary: RunSummary) -> list[str]:
    rows = []
    for step in summary.steps:
        for link, effect in step.links.items():
            p50 = "–" if effect.effective_added_ms is None else f"+{effect.effective_added_ms:g} ms"
            p95 = "–" if effect.effective_added_p95_ms is None else f"+{effect.effective_added_p95_ms:g} ms"
            rows.append(f"| {step.index} | {link} | {effect.requested} | {p50} | {p95} |")
    return rows


def stop_lines(summary: RunSummary) -> list[str]:
    """Which stop condition (or store crash) ended the run, when, on which values."""
    said = stop_sentence(summary)
    if said is None:
        return []
    name, text = said
    return [f"> **Stopped by `{name}`:** {text}", ""]


def incident_lines(summary: RunSummary) -> list[str]:
    if not summary.incidents:
        return []
    lines = ["", "## Incidents", "", "What went wrong with the stack during the run; the steps it met are flagged.", ""]
    return lines + [f"- {sentence}" for sentence in incident_sentences(summary)]


def recovery_lines(summary: RunSummary) -> list[str]:
    if not summary.recovery:
        return []
    lines = ["", "## Recovery", "", "Time from the fault's removal until each SLO held again (point values per slice).",
             "", "| users | fault | tier | broke during the fault | recovered after |", "|---|---|---|---|---|"]
    for item in summary.recovery:
        for tier, tier_recovery in item.tiers.items():
            after = recovery_after(tier_recovery.recovery_s, tier_recovery.resolution_s, item.watched_s)
            lines.append(f"| {item.users} | {'; '.join(item.fault)} | {tier} | "
                         f"{'yes' if tier_recovery.broke else 'no'} | {after} |")
    return lines


def surface_lines(summary: RunSummary) -> list[str]:
    if not summary.surface:
        return []
    tiers = sorted({tier for cell in summary.surface for tier in cell.tiers})
    levels = sorted({cell.level for cell in summary.surface})
    names = {cell.level: "; ".join(cell.toxics) or "no fault" for cell in summary.surface}
    lines = ["", "## Surface (users × fault level)", ""]
    for tier in tiers:
        percentile = "p99_ms" if tier in ("redis", "materialize") else "p95_ms"
        lines += [f"**{tier}** ({percentile.removesuffix('_ms')}, ms; verdict)", "",
                  "| users | " + " | ".join(names[level] for level in levels) + " |",
                  "|---|" + "---|" * len(levels)]
        for users in sorted({cell.users for cell in summary.surface}):
            row = []
            for level in levels:
                cell = next((c for c in summary.surface if c.users == users and c.level == level), None)
                data = cell.tiers.get(tier) if cell else None
                value = data.get(percentile) if data else None
                row.append("–" if value is None else f"{value:g} {data.get('verdict') or ''}".strip())
            lines.append(f"| {users} | " + " | ".join(row) + " |")
        lines.append("")
    return lines


def write_markdown(summary: RunSummary, folder: Path) -> Path:
    path = folder / "report.md"
    path.write_text(render_markdown(summary), encoding="utf-8")
    return path
