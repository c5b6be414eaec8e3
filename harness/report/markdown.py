"""report.md: the verdict, what broke where, and the step table, readable in a PR comment."""

from __future__ import annotations

from pathlib import Path

from harness.results import RunStatus, RunSummary, describe_toxic
from harness.slo import Verdict

MARK = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.NO_DATA: "–"}


def render_markdown(summary: RunSummary) -> str:
    lines = [f"# Resilience report: {summary.experiment}", ""]
    lines.append(f"**Verdict: {summary.verdict.value.upper()}** · status {summary.status.value} · "
                 f"backend {summary.backend} · run `{summary.run_id}`")
    lines.append("")
    if summary.status != RunStatus.COMPLETED:
        done = len(summary.steps)
        lines += [f"> **Partial run:** {done} of {summary.planned_steps} steps completed"
                  f" ({summary.status.value}: {summary.reason or 'no reason recorded'}).", ""]
    for note in summary.notes:
        lines.append(f"> {note}")
    if summary.notes:
        lines.append("")
    lines += ["## Breaking points", ""]
    lines += [f"- {sentence}" for sentence in breaking_points(summary)] or ["- none: every SLO held"]
    lines += ["", "## Steps", ""]
    tiers = sorted({tier for step in summary.steps for tier in step.slo})
    header = ["step", "users", "toxics"] + [f"{tier} ({summary.slos.get(tier, '')})" for tier in tiers] + ["flags"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for step in summary.steps:
        toxics = "; ".join(describe_toxic(t.link, t.type, t.attributes) for t in step.toxics) or "none"
        cells = [str(step.index), str(step.users), toxics]
        for tier in tiers:
            result = step.tiers.get(tier)
            verdict = step.slo.get(tier, Verdict.NO_DATA)
            if result is None or result.count == 0:
                cells.append(f"{MARK[verdict]} no samples" + (f", {result.errors} errors" if result else ""))
            else:
                cells.append(f"{MARK[verdict]} p50 {result.p50_ms:g} · p95 {result.p95_ms:g} · "
                             f"p99 {result.p99_ms:g} ms · n={result.count}"
                             + (f" · {result.errors} err" if result.errors else ""))
        cells.append("; ".join(step.flags) or "")
        lines.append("| " + " | ".join(cells) + " |")
    if summary.versions:
        lines += ["", "## What ran", ""]
        lines += [f"- {name}: {version}" for name, version in sorted(summary.versions.items())]
    return "\n".join(lines) + "\n"


def breaking_points(summary: RunSummary) -> list[str]:
    """For each tier, the first step whose SLO failed, in a sentence."""
    sentences = []
    tiers = sorted({tier for step in summary.steps for tier in step.slo})
    for tier in tiers:
        failed = [s for s in summary.steps if s.slo.get(tier) == Verdict.FAIL]
        if not failed:
            continue
        first = failed[0]
        held = [s for s in summary.steps if s.index < first.index and s.slo.get(tier) == Verdict.PASS]
        faults = "; ".join(describe_toxic(t.link, t.type, t.attributes) for t in first.toxics) or "no fault"
        before = f"holds up to {held[-1].users} users, " if held else ""
        sentences.append(f"{tier} ({summary.slos.get(tier, '')}) {before}breaks at step {first.index} "
                         f"({first.users} users, {faults}): {'; '.join(first.reasons.get(tier, []))}")
    return sentences


def write_markdown(summary: RunSummary, folder: Path) -> Path:
    path = folder / "report.md"
    path.write_text(render_markdown(summary), encoding="utf-8")
    return path
