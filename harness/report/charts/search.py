"""A breaking-point search: each window's magnitude in the order tried, coloured by its verdict, the answer banded."""

from __future__ import annotations

from harness.report.charts.style import (
    FAIL_COLOUR,
    INCONCLUSIVE_COLOUR,
    NO_DATA_COLOUR,
    PASS_COLOUR,
    SLO_COLOUR,
    new_figure,
    styled,
    svg,
)
from harness.search import SearchResult

COLOURS = {"pass": PASS_COLOUR, "fail": FAIL_COLOUR, "inconclusive": INCONCLUSIVE_COLOUR, "no-data": NO_DATA_COLOUR}
MARKERS = {"pass": "o", "fail": "X", "inconclusive": "D", "no-data": "s"}


@styled
def search_chart(result: SearchResult) -> str | None:
    if not result.windows:
        return None
    figure, ax = new_figure(height_in=2.6)
    unit = result.field.rsplit("_", 1)[-1].replace("kbps", "KB/s")
    if result.holds_at is not None and result.breaks_at is not None:
        low, high = sorted((result.holds_at, result.breaks_at))
        ax.axhspan(low, high, color=INCONCLUSIVE_COLOUR, alpha=0.15, lw=0, label="where it breaks (between)")
    if result.breaking_point is not None:
        ax.axhline(result.breaking_point, color=SLO_COLOUR, ls=":", lw=1.3,
                   label=f"breaking point ≈ {result.breaking_point:g} {unit}")
    ax.plot(range(1, len(result.windows) + 1), [w.magnitude for w in result.windows], color="#999999", lw=0.8)
    for verdict in COLOURS:
        chosen = [(i, w) for i, w in enumerate(result.windows, start=1) if w.verdict.value == verdict]
        if chosen:
            ax.scatter([i for i, _ in chosen], [w.magnitude for _, w in chosen], color=COLOURS[verdict],
                       marker=MARKERS[verdict], s=50, zorder=3, label=verdict)
    ax.set_xticks(range(1, len(result.windows) + 1))
    ax.set_xlabel("window, in the order the search tried them")
    ax.set_ylabel(f"{result.type} ({unit})")
    ax.set_title(f"{result.tier} ({result.slo}) on the {result.link} link at {result.users} users")
    ax.legend(loc="best", frameon=False)
    return svg(figure, f"Breaking-point search of {result.tier}: the windows tried and their verdicts")
