"""The run over time: each tier's judged percentile per live window, with every change and event drawn on it.

Above, latency (log scale when it spans orders of magnitude): a solid line
per tier for the faulted path, dotted for its control path. Below, the users
running and the failed calls per second. Step windows are shaded; each marker
(toxic change, stop, incident, annotation) is a numbered vertical line, the
number pointing into the table under the chart, where there is room for
its words.
"""

from __future__ import annotations

from matplotlib.axes import Axes

from harness.report.charts.axes import gap, latency_axis
from harness.report.charts.style import (
    CONTROL_COLOUR,
    FAIL_COLOUR,
    OKABE_ITO,
    new_figure,
    styled,
    svg,
    tier_colour,
)
from harness.report.timeline import Timeline
from harness.tiers import TIERS

MARKER_STYLE = {"fault": ("#000000", "--"), "stop": (FAIL_COLOUR, "-"), "incident": (FAIL_COLOUR, "-."),
                "marker": (OKABE_ITO[3], "-.")}
FIELDS = {50.0: "p50_ms", 95.0: "p95_ms", 99.0: "p99_ms"}


@styled
def timeline_chart(timeline: Timeline, percentiles: dict[str, float], bounds: dict[str, float] | None = None
                   ) -> str | None:
    """``percentiles``: the one drawn per tier (its SLO's, else p95); ``bounds``: each tier's SLO bound (ms).

    None when there is nothing over time.
    """
    if not timeline.ticks and not timeline.markers:
        return None
    figure, (top, bottom) = new_figure(height_in=3.9, nrows=2, sharex=True, height_ratios=[3, 1.1])
    _spans(top, timeline)
    values = _latency(top, timeline, percentiles)
    values += _bounds(top, timeline, percentiles, bounds or {})
    latency_axis(top, values)
    _load(bottom, timeline)
    _markers(top, bottom, timeline)
    bottom.set_xlabel("seconds since the plan clock started" if timeline.origin else "seconds")
    figure.legend(*top.get_legend_handles_labels(), loc="outside lower center", ncols=6, frameon=False)
    return svg(figure, "Timeline: latency per tier over time with each toxic change, stop and event")


def _latency(ax: Axes, timeline: Timeline, percentiles: dict[str, float]) -> list[float | None]:
    tiers = _tiers(timeline)
    drawn: list[float | None] = []
    for position, tier in enumerate(tiers):
        field = FIELDS.get(percentiles.get(tier, 95.0), "p95_ms")
        xs, faulted, control = [], [], []
        for tick in timeline.ticks:
            data = tick.tiers.get(tier)
            xs.append(timeline.seconds(tick.end))
            faulted.append(getattr(data, field) if data is not None and data.count else None)
            path = data.control if data is not None else None
            control.append(getattr(path, field) if path is not None and path.count else None)
        colour = tier_colour(tier, position)
        ax.plot(xs, [gap(v) for v in faulted], color=colour, lw=1.3,
                label=f"{tier} {field.removesuffix('_ms')}")
        if any(v is not None for v in control):
            ax.plot(xs, [gap(v) for v in control], color=colour, lw=0.9, ls=":", alpha=0.8)
        drawn += faulted + control
    return drawn


def _tiers(timeline: Timeline) -> list[str]:
    """The tiers measured, in the order every chart of the report gives them."""
    seen = {tier for tick in timeline.ticks for tier in tick.tiers}
    return [tier for tier in TIERS if tier in seen] + sorted(seen - set(TIERS))


def _bounds(ax: Axes, timeline: Timeline, percentiles: dict[str, float], bounds: dict[str, float]) -> list[float | None]:
    """Each drawn tier's SLO bound: a thin line in its colour, named at the right edge."""
    tiers = _tiers(timeline)
    for position, tier in enumerate(tiers):
        bound = bounds.get(tier)
        if bound is None:
            continue
        colour = tier_colour(tier, position)
        ax.axhline(bound, color=colour, ls=(0, (6, 3)), lw=0.8, alpha=0.7)
        ax.text(1.0, bound, f" {tier} SLO p{percentiles.get(tier, 95.0):g} {bound:g} ms", color=colour, fontsize=6,
                va="center", ha="left", transform=ax.get_yaxis_transform(), clip_on=False)
    return [bounds[tier] for tier in tiers if tier in bounds]


def _spans(ax: Axes, timeline: Timeline) -> None:
    for position, span in enumerate(timeline.spans):
        ax.axvspan(timeline.seconds(span.window_start), timeline.seconds(span.end),
                   color=CONTROL_COLOUR, alpha=0.08 if position % 2 else 0.16, lw=0)
        # Step numbers inside, at the foot: the top edge is the markers' (numbered) place.
        ax.text(timeline.seconds(span.window_start), 0.01, f" {span.index}", transform=ax.get_xaxis_transform(),
                fontsize=6, va="bottom", ha="left", color="#555555")


def _load(ax: Axes, timeline: Timeline) -> None:
    ticks = timeline.ticks
    if ticks:
        xs = [timeline.seconds(t.end) for t in ticks]
        ax.step(xs, [gap(t.users) for t in ticks], where="post", color="#000000", lw=1.1, label="users")
        errors = ax.twinx()
        rates = [sum(d.errors for d in t.tiers.values()) / max(t.end - t.start, 1e-9) for t in ticks]
        errors.plot(xs, rates, color=FAIL_COLOUR, lw=1, ls="--", label="failed calls / s")
        errors.set_ylabel("failed / s", color=FAIL_COLOUR)
        errors.set_ylim(bottom=0, top=max(rates + [1.0]) * 1.2)
        errors.spines["right"].set_visible(True)
    ax.set_ylabel("users")
    ax.set_ylim(bottom=0)


def _markers(top: Axes, bottom: Axes, timeline: Timeline) -> None:
    xs = [timeline.seconds(m.at) for m in timeline.markers] + [timeline.seconds(t.end) for t in timeline.ticks]
    near = (max(xs) - min(xs)) * 0.03 if xs else 0.0  # closer than this, two numbers would overlap
    row, last = 0, None
    for number, marker in enumerate(timeline.markers, start=1):
        colour, style = MARKER_STYLE[marker.kind]
        x = timeline.seconds(marker.at)
        if marker.until is not None:
            for ax in (top, bottom):
                ax.axvspan(x, timeline.seconds(marker.until), color=FAIL_COLOUR, alpha=0.12, lw=0)
        for ax in (top, bottom):
            ax.axvline(x, color=colour, ls=style, lw=0.9)
        # Markers close together are staggered upwards, so their numbers stay apart.
        row = (row + 1) % 3 if last is not None and x - last <= near else 0
        last = x
        top.annotate(str(number), (x, 1.0), xycoords=top.get_xaxis_transform(), xytext=(0, 2 + 7 * row),
                     textcoords="offset points", fontsize=6, color=colour, fontweight="bold", ha="center",
                     va="bottom", annotation_clip=False)

