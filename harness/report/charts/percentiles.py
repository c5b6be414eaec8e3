"""Per tier: p50, p95 and p99 against users, a line per fault level, the control path beside, the SLO drawn.

Two layouts, chosen by what the run varied. When some fault level was held
over several user counts (a matrix, or a plain ramp), the x axis is users and
each fault level is a line. When every step has its own level (the usual
ramp: 5 users no fault, 10 users 100 ms, …) or a level repeats at one user
count (phases), such lines would be single points: the x axis is then the
steps in run order, each labelled with its users and its fault level.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.transforms import blended_transform_factory

from harness.record import StepRecord, TierReport
from harness.report.charts.axes import categorical_x, gap, latency_axis, legend_below
from harness.report.charts.style import (
    CONTROL_COLOUR,
    FAIL_COLOUR,
    INCONCLUSIVE_COLOUR,
    LINE_STYLES,
    OKABE_ITO,
    SLO_COLOUR,
    new_figure,
    styled,
    svg,
    tier_colour,
)
from harness.slo import Verdict
from harness.spec import TierSlo

PANELS = ((50.0, "p50_ms"), (95.0, "p95_ms"), (99.0, "p99_ms"))


def fault_label(step: StepRecord) -> str:
    return "; ".join(t.describe() for t in step.toxics) or "no fault"


def short_fault(step: StepRecord) -> str:
    """A tick label's fault: ``50 ms``, ``down``, ``redis 5 ms + clickhouse 50 ms``, ``none``."""
    if not step.toxics:
        return "none"
    several_links = len({t.link for t in step.toxics}) > 1
    parts = []
    for toxic in step.toxics:
        level = toxic.level or toxic.type
        level = level.removeprefix(toxic.type).strip() or level
        parts.append(f"{toxic.link} {level}" if several_links else level)
    return " + ".join(parts)


def judged_percentile(slo: TierSlo | None) -> float | None:
    """The percentile a record's confidence interval belongs to (the highest bounded one)."""
    bounds = slo.bounds() if slo else {}
    return max(bounds) if bounds else None


def by_users(steps: Sequence[StepRecord]) -> bool:
    """True when fault levels were held over several user counts, each user count once per level."""
    groups: dict[str, list[int]] = {}
    for step in steps:
        groups.setdefault(fault_label(step), []).append(step.users)
    once = all(len(users) == len(set(users)) for users in groups.values())
    return once and any(len(users) > 1 for users in groups.values())


@styled
def percentile_chart(tier: str, steps: Sequence[StepRecord], slo: TierSlo | None, slo_text: str) -> str | None:
    """The tier's chart as inline SVG; None when no step measured the tier."""
    rows = [s for s in steps if tier in s.tiers or tier in s.slo]
    if not any((r := s.tiers.get(tier)) is not None and r.count for s in rows):
        return None
    errors_panel = slo is not None and slo.error_ratio is not None
    figure, axes = new_figure(height_in=3.1, ncols=len(PANELS) + errors_panel)
    axes = list(axes)
    for ax in axes[1:len(PANELS)]:
        ax.sharey(axes[0])
    levels = list(dict.fromkeys(fault_label(s) for s in rows))
    users_mode = by_users(rows)
    positions, labels = _positions(rows, users_mode)
    values: list[float | None] = []
    for ax, (percentile, field) in zip(axes, PANELS, strict=False):
        values += _panel(ax, tier, rows, levels, positions, users_mode, percentile, field, slo, slo_text)
    latency_axis(axes[0], values)
    for ax in axes[1:len(PANELS)]:
        ax.tick_params(labelleft=False)
    if errors_panel:
        assert slo is not None and slo.error_ratio is not None
        _errors(axes[-1], tier, rows, levels, positions, users_mode, slo.error_ratio, slo_text)
    links = sorted({f"{t.link} {t.type}" for s in rows for t in s.toxics})
    title = "users" if users_mode else f"users / {', '.join(links) or 'fault'}, steps in run order"
    for ax in axes:
        categorical_x(ax, labels, "", most=12 if users_mode else 5)
    axes[1].set_xlabel(title)  # once, under the middle panel: the layout keeps it clear of the legend
    figure.suptitle(f"{tier}: latency percentiles vs users · SLO {slo_text or 'none'}", fontweight="bold")
    legend_below(figure, axes, columns=3)
    return svg(figure, f"{tier}: p50, p95 and p99 latency against users, per fault level, with the SLO")


def _positions(rows: Sequence[StepRecord], users_mode: bool) -> tuple[dict[int, int], list[str]]:
    """Each step's x position (by its index) and the axis labels."""
    if users_mode:
        users = sorted({s.users for s in rows})
        return {s.index: users.index(s.users) for s in rows}, [str(u) for u in users]
    return {s.index: i for i, s in enumerate(rows)}, [f"{s.users}\n{short_fault(s)}" for s in rows]


def _series(rows: Sequence[StepRecord], tier: str, field: str, control: bool = False) -> list[float | None]:
    found = []
    for step in rows:
        result: TierReport | None = step.tiers.get(tier)
        source = (result.control if result else None) if control else result
        found.append(getattr(source, field, None) if source is not None and source.count else None)
    return found


def _panel(ax: Axes, tier: str, rows: Sequence[StepRecord], levels: list[str], positions: dict[int, int],
           users_mode: bool, percentile: float, field: str, slo: TierSlo | None, slo_text: str) -> list[float | None]:
    faulted = _series(rows, tier, field)
    control = _series(rows, tier, field, control=True)
    xs = [positions[s.index] for s in rows]
    colour = tier_colour(tier)
    if users_mode:
        for position, level in enumerate(levels):
            chosen = sorted((x, v) for x, v, s in zip(xs, faulted, rows, strict=True) if fault_label(s) == level)
            ax.plot([x for x, _ in chosen], [gap(v) for _, v in chosen], marker="o", ms=4,
                    color=OKABE_ITO[position % len(OKABE_ITO)], ls=LINE_STYLES[position % len(LINE_STYLES)],
                    label=level)
    else:
        ax.plot(xs, [gap(v) for v in faulted], color=colour, lw=1.3, marker="o", ms=4, label="faulted path")
    order = sorted(range(len(xs)), key=lambda i: xs[i]) if users_mode else list(range(len(xs)))
    if any(v is not None for v in control):
        ax.plot([xs[i] for i in order], [gap(control[i]) for i in order], color=CONTROL_COLOUR, ls="--", lw=1,
                marker=".", ms=4, label="control path (same store, no toxic)")
    drawn = faulted + control
    bound = slo.bounds().get(percentile) if slo else None
    if percentile == judged_percentile(slo):
        drawn += _ci_band(ax, tier, rows, xs, order, colour, percentile)
        _verdict_marks(ax, tier, rows, xs, faulted)
    if bound is not None:
        ax.axhline(bound, color=SLO_COLOUR, ls=":", lw=1.3, label=f"SLO {slo_text}")
        _slo_label(ax, bound, f"SLO p{percentile:g} < {bound:g} ms")
        drawn.append(bound)
    ax.set_title(f"p{percentile:g}")
    return drawn


def _ci_band(ax: Axes, tier: str, rows: Sequence[StepRecord], xs: list[int], order: list[int], colour: str,
             percentile: float) -> list[float | None]:
    lows, highs = [], []
    for step in rows:
        result = step.tiers.get(tier)
        ci = result.ci_ms if result is not None else None
        lows.append(ci[0] if ci else None)
        # Unbounded above (too few samples for the rank): drawn to the point itself, said in the table.
        highs.append((ci[1] if ci[1] is not None else result.percentile_ms(percentile)) if ci and result else None)
    if not any(v is not None for v in lows):
        return []
    ax.fill_between([xs[i] for i in order], [gap(lows[i]) for i in order], [gap(highs[i]) for i in order],
                    color=colour, alpha=0.18, lw=0, label=f"95 % CI of p{percentile:g}")
    return [v for v in lows if v and v > 0] + highs


def _verdict_marks(ax: Axes, tier: str, rows: Sequence[StepRecord], xs: list[int],
                   values: list[float | None]) -> None:
    """Failed, inconclusive and flagged steps marked where the SLO is judged."""
    marks = {
        "failed": ([], {"marker": "X", "s": 70, "color": FAIL_COLOUR}),
        "inconclusive": ([], {"marker": "D", "s": 55, "facecolors": "none", "edgecolors": INCONCLUSIVE_COLOUR,
                              "linewidths": 1.5}),
        "flagged (measurement not trusted)": ([], {"marker": "s", "s": 110, "facecolors": "none",
                                                   "edgecolors": SLO_COLOUR, "linewidths": 0.8}),
    }
    for step, x, value in zip(rows, xs, values, strict=True):
        if value is None:
            continue
        verdict = step.slo.get(tier)
        if verdict == Verdict.FAIL:
            marks["failed"][0].append((x, value))
        elif verdict == Verdict.INCONCLUSIVE:
            marks["inconclusive"][0].append((x, value))
        if step.flags:
            marks["flagged (measurement not trusted)"][0].append((x, value))
    for label, (points, style) in marks.items():
        if points:
            ax.scatter([x for x, _ in points], [v for _, v in points], zorder=4, label=label, **style)


def _errors(ax: Axes, tier: str, rows: Sequence[StepRecord], levels: list[str], positions: dict[int, int],
            users_mode: bool, bound: float, slo_text: str) -> None:
    ratios = []
    for step in rows:
        result = step.tiers.get(tier)
        ratios.append(result.error_ratio * 100 if result is not None and result.attempts else None)
    xs = [positions[s.index] for s in rows]
    if users_mode:
        for position, level in enumerate(levels):
            chosen = sorted((x, v) for x, v, s in zip(xs, ratios, rows, strict=True) if fault_label(s) == level)
            ax.plot([x for x, _ in chosen], [gap(v) for _, v in chosen], marker="o", ms=4,
                    color=OKABE_ITO[position % len(OKABE_ITO)], ls=LINE_STYLES[position % len(LINE_STYLES)])
    else:
        ax.plot(xs, [gap(v) for v in ratios], color=tier_colour(tier), marker="o", ms=4, lw=1.2)
    _verdict_marks(ax, tier, rows, xs, ratios)
    ax.axhline(bound * 100, color=SLO_COLOUR, ls=":", lw=1.3, label=f"SLO {slo_text}")
    _slo_label(ax, bound * 100, f"SLO errors < {bound:.1%}")
    top = max([v for v in ratios if v is not None] + [bound * 100])
    ax.set_ylim(0, top * 1.25 or 1)
    ax.set_ylabel("errors (% of attempts)")
    ax.set_title("error ratio")


def _slo_label(ax: Axes, at: float, text: str) -> None:
    """The SLO line's own label, at its left end, on a backing that keeps it legible over the data."""
    ax.text(0.02, at, text, color=SLO_COLOUR, fontsize=7, ha="left", va="bottom", zorder=5,
            transform=blended_transform_factory(ax.transAxes, ax.transData),
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.75, "pad": 1})
