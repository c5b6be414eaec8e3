"""A comparison of two runs as console text: the runs, the score change, one row per step and tier."""

from __future__ import annotations

from harness.compare import PERCENTILES, Change, Comparison, Delta, StepChange, TierChange

MARKS = {Change.WORSE: "REGRESSED", Change.BETTER: "improved", Change.SAME: "", Change.UNJUDGED: "not compared"}
HEADER = ["step", "users", "tier", "verdict A → B", "", *(f"{name} ms A → B" for name in PERCENTILES)]


def comparison_lines(comparison: Comparison) -> list[str]:
    lines = [f"A: {comparison.before.describe()}", f"B: {comparison.after.describe()}", comparison.score_sentence()]
    lines += [f"plans differ: {difference}" for difference in comparison.plan_differences]
    rows = [HEADER] + [_row(step, tier) for step in comparison.steps for tier in step.tiers]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    for row in rows:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    lines.append(comparison.verdict_sentence())
    return lines


def _row(step: StepChange, tier: TierChange) -> list[str]:
    users = (str(step.users_before or step.users_after) if step.users_before == step.users_after
             or None in (step.users_before, step.users_after) else f"{step.users_before}→{step.users_after}")
    verdicts = f"{_verdict(tier.before)} → {_verdict(tier.after)}"
    return [str(step.index), users, tier.tier, verdicts, MARKS[tier.change],
            *(delta_text(tier.percentiles[name]) for name in PERCENTILES)]


def delta_text(delta: Delta) -> str:
    """``40 → 44 (+10%)``, ``4.4 → 708 (×161)`` from double on; ``– → 44`` when a side has no value."""
    text = f"{ms_text(delta.before_ms)} → {ms_text(delta.after_ms)}"
    ratio = delta.change_ratio
    if ratio is None:
        return text
    if ratio >= 1.0:  # "+16159%" reads worse than "×162"
        return f"{text} (×{1.0 + ratio:.3g})"
    return f"{text} ({ratio:+.0%})".replace("-", "−")


def ms_text(value: float | None) -> str:
    """Three significant digits without an exponent: 0.312, 41.5, 1230."""
    if value is None:
        return "–"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _verdict(verdict: object) -> str:
    return "—" if verdict is None else str(verdict)
