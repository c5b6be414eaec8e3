"""compare.html: two runs side by side in one self-contained file (charts inline, nothing fetched).

It opens with what CI gates on (did a verdict regress?) and the score
change, then per tier a chart of the percentile its SLO bounds, step by
step, run A dashed and run B solid with B's regressions marked, then the
table of every step × tier change.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.compare import Change, Comparison, RunSide, TierChange
from harness.report.charts.axes import categorical_x, gap, latency_axis, legend_below
from harness.report.charts.style import (
    FAIL_COLOUR,
    OKABE_ITO,
    PASS_COLOUR,
    SLO_COLOUR,
    new_figure,
    styled,
    svg,
)
from harness.report.compare_text import delta_text
from harness.report.page import Cell, document, esc, figure, section, table, verdict_tag

BEFORE_COLOUR, AFTER_COLOUR = OKABE_ITO[0], OKABE_ITO[1]
# "p99 < 1 ms" (as TierSlo.describe() writes a latency bound): the percentile and its bound.
LATENCY_BOUND = re.compile(r"\bp(\d+(?:\.\d+)?) < (\d+(?:\.\d+)?) ms")
CHARTED = {"50": "p50", "95": "p95", "99": "p99"}  # the percentiles a comparison carries
# Beside the page's own style: a change in words and colour (never colour alone).
CHANGE_CSS = (f"<style>.change.worse {{ color: {FAIL_COLOUR}; font-weight: bold; }} "
              f".change.better {{ color: {PASS_COLOUR}; }} .change.unjudged {{ color: #555; }}</style>")
CHANGE_WORDS = {Change.WORSE: "regressed", Change.BETTER: "improved", Change.SAME: "same",
                Change.UNJUDGED: "not compared"}


def write_compare_html(comparison: Comparison, slos: dict[str, str], path: Path) -> Path:
    """Write the page to ``path``; ``slos``: each tier's SLO in words (run B's, else A's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_compare_html(comparison, slos), encoding="utf-8")
    return path


def render_compare_html(comparison: Comparison, slos: dict[str, str]) -> str:
    regressed = comparison.regressed
    header = (f"{CHANGE_CSS}<h1>Comparison: {esc(comparison.after.experiment)}</h1>"
              f'<div class="lead"><span class="verdict {"fail" if regressed else "pass"}">'
              f'{"REGRESSED" if regressed else "NO REGRESSION"}</span>'
              f'<span class="score">{esc(comparison.score_sentence())}</span></div>'
              f'<p id="verdict">{esc(comparison.verdict_sentence())}</p>')
    sections = [section("runs", "Runs", _runs_table(comparison.before, comparison.after))]
    if comparison.plan_differences:
        notes = "".join(f'<p class="note">{esc(text)}</p>' for text in comparison.plan_differences)
        sections.append(section("plans", "The plans differ", notes))
    charts = [_tier_chart(comparison, tier, slos.get(tier, "")) for tier in _tiers(comparison)]
    charts = [chart for chart in charts if chart]
    sections.append(section("charts", "Per tier", "".join(charts) or
                            '<p class="missing">no step of either run measured a percentile</p>'))
    sections.append(section("changes", "Per step and tier", _changes_table(comparison)))
    nav = [("runs", "Runs"), ("charts", "Per tier"), ("changes", "Per step and tier")]
    title = f"Comparison {comparison.before.run_id} → {comparison.after.run_id}"
    return document(title, header, nav, sections)


def _runs_table(before: RunSide, after: RunSide) -> str:
    rows = [[label, run.run_id, run.experiment, run.status, Cell(verdict_tag(run.verdict), markup=True),
             Cell("none" if run.score is None else f"{run.score:g}/100", numeric=True),
             Cell(f"{run.steps} of {run.planned_steps}", numeric=True)]
            for label, run in (("A (baseline)", before), ("B", after))]
    return table(["run", "id", "experiment", "status", "verdict", "score", "steps"], rows)


def _changes_table(comparison: Comparison) -> str:
    rows = []
    for step in comparison.steps:
        users = (str(step.users_before or step.users_after) if step.users_before == step.users_after
                 or None in (step.users_before, step.users_after) else f"{step.users_before} → {step.users_after}")
        one_side = None in (step.users_before, step.users_after)
        toxics = ("; ".join(step.toxics_after or step.toxics_before) or "none") if step.same_plan or one_side \
            else f"A: {'; '.join(step.toxics_before) or 'none'} · B: {'; '.join(step.toxics_after) or 'none'}"
        for tier in step.tiers:
            verdicts = f"{_tag(tier.before)} → {_tag(tier.after)}"
            change = f'<span class="change {tier.change.value}">{esc(CHANGE_WORDS[tier.change])}</span>'
            rows.append([Cell(step.index, numeric=True), Cell(users, numeric=True), toxics, tier.tier,
                         Cell(verdicts, markup=True), Cell(change, markup=True),
                         *(Cell(delta_text(tier.percentiles[name]), numeric=True) for name in ("p50", "p95", "p99"))])
    return table(["step", "users", "toxics", "tier", "verdict A → B", "change", "p50 ms", "p95 ms", "p99 ms"],
                 rows, caption="Faulted path percentiles, run A → run B (change relative to A).")


def _tag(verdict: object) -> str:
    return "—" if verdict is None else verdict_tag(str(verdict))


def _tiers(comparison: Comparison) -> list[str]:
    return sorted({tier.tier for step in comparison.steps for tier in step.tiers})


def charted_percentile(slo: str) -> tuple[str, float | None]:
    """The percentile a tier's SLO bounds and its bound (ms); p99 without a bound when none is charted."""
    for match in LATENCY_BOUND.finditer(slo):
        name = CHARTED.get(match.group(1).removesuffix(".0"))
        if name:
            return name, float(match.group(2))
    return "p99", None


@styled
def _tier_chart(comparison: Comparison, tier: str, slo: str) -> str:
    name, bound_ms = charted_percentile(slo)
    changes: list[TierChange] = [change for step in comparison.steps for change in step.tiers if change.tier == tier]
    before = [change.percentiles[name].before_ms for change in changes]
    after = [change.percentiles[name].after_ms for change in changes]
    if all(value is None for value in before + after):
        return ""
    figure_, axes = new_figure(height_in=2.6)
    positions = list(range(len(changes)))  # one per step this tier has, in order
    axes.plot(positions, [gap(v) for v in before], linestyle="--", marker="o", color=BEFORE_COLOUR,
              label=f"A (baseline) {name}", linewidth=1.4, markersize=4)
    axes.plot(positions, [gap(v) for v in after], linestyle="-", marker="s", color=AFTER_COLOUR,
              label=f"B {name}", linewidth=1.4, markersize=4)
    for kind, marker, size, colour, label in ((Change.WORSE, "X", 70, FAIL_COLOUR, "verdict regressed"),
                                              (Change.BETTER, "^", 45, PASS_COLOUR, "verdict improved")):
        marked = [(x, value) for x, change, value in zip(positions, changes, after, strict=True)
                  if change.change == kind and value is not None]
        if marked:
            axes.scatter([x for x, _ in marked], [y for _, y in marked], marker=marker, s=size, color=colour,
                         zorder=5, label=label)
    if bound_ms is not None:
        axes.axhline(bound_ms, color=SLO_COLOUR, linestyle=":", linewidth=1.2, label=f"SLO {name} < {bound_ms:g} ms")
    latency_axis(axes, [*before, *after, bound_ms], label=f"{name} latency (ms)")
    categorical_x(axes, [_step_label(comparison, change.step) for change in changes], "step (users)")
    bound_words = f"SLO {slo}" if bound_ms is not None else f"SLO {slo or 'none'}: no {name} bound"
    axes.set_title(f"{tier}: {name} per step, run A vs run B ({bound_words})")
    legend_below(figure_, [axes])
    title = f"{tier} {name} latency per step, run A (dashed) and run B (solid)"
    regressed = any(change.regressed(comparison.strict) for change in changes)
    return figure(svg(figure_, title), title + ("; ✕ marks a regressed verdict" if regressed else ""))


def _step_label(comparison: Comparison, index: int) -> str:
    step = next(step for step in comparison.steps if step.index == index)
    if step.users_before == step.users_after or None in (step.users_before, step.users_after):
        return f"{index}\n{step.users_after or step.users_before} u"
    return f"{index}\n{step.users_before}/{step.users_after} u"
