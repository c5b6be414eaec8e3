"""A matrix run's surface: users × fault level per tier, each cell coloured by its verdict and showing its value."""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from harness.recovery import Cell
from harness.report.charts.style import (
    FAIL_COLOUR,
    INCONCLUSIVE_COLOUR,
    NO_DATA_COLOUR,
    PASS_COLOUR,
    new_figure,
    styled,
    svg,
)

VERDICTS = ("pass", "fail", "inconclusive", "no-data")
COLOURS = ListedColormap([PASS_COLOUR, FAIL_COLOUR, INCONCLUSIVE_COLOUR, NO_DATA_COLOUR])
# Text on each colour that stays readable (white on the dark ones).
TEXT = {"pass": "#ffffff", "fail": "#ffffff", "inconclusive": "#000000", "no-data": "#000000"}
PER_ROW = 3
UNITS = {"ms", "µs", "s", "KB/s", "bytes", "B", "%"}


@styled
def surface_chart(cells: Sequence[Cell], percentiles: dict[str, str]) -> str | None:
    """``percentiles``: per tier the field shown in the cells (``p99_ms``…). None without cells."""
    tiers = sorted({tier for cell in cells for tier in cell.tiers})
    if not tiers:
        return None
    users = sorted({cell.users for cell in cells})
    levels = sorted({cell.level for cell in cells})
    names, common = level_names({cell.level: "; ".join(cell.toxics) for cell in cells})
    rows = math.ceil(len(tiers) / PER_ROW)
    columns = min(PER_ROW, len(tiers))
    figure, axes = new_figure(height_in=0.6 + rows * (0.5 + 0.32 * len(users) + 0.5), ncols=columns, nrows=rows,
                              squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, tier in zip(flat, tiers, strict=False):
        field = percentiles.get(tier, "p95_ms")
        grid = [[VERDICTS.index("no-data")] * len(levels) for _ in users]
        for cell in cells:
            data = cell.tiers.get(tier) or {}
            verdict = str(data.get("verdict") or "no-data")
            row, column = users.index(cell.users), levels.index(cell.level)
            grid[row][column] = VERDICTS.index(verdict) if verdict in VERDICTS else VERDICTS.index("no-data")
            value = data.get(field)
            text = "–" if not isinstance(value, int | float) else f"{value:.3g}"
            ax.text(column, row, text, ha="center", va="center", fontsize=7, color=TEXT[VERDICTS[grid[row][column]]])
        ax.imshow(grid, cmap=COLOURS, vmin=0, vmax=len(VERDICTS) - 1, aspect="auto", origin="lower")
        ax.set_xticks(range(len(levels)), [_short(names[level]) for level in levels])
        ax.set_xlabel(f"fault level ({common})" if common else "fault level")
        ax.set_yticks(range(len(users)), [str(u) for u in users])
        ax.set_ylabel("users")
        ax.set_title(f"{tier} ({field.removesuffix('_ms')}, ms)")
        ax.grid(False)
    for ax in flat[len(tiers):]:
        ax.set_visible(False)
    figure.legend([Patch(color=COLOURS(i)) for i in range(len(VERDICTS))], VERDICTS, loc="outside lower center",
                  ncols=len(VERDICTS), frameon=False)
    return svg(figure, "Surface: users × fault level, each cell's verdict and judged percentile")


def _short(text: str, width: int = 28) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def level_names(described: dict[int, str]) -> tuple[dict[int, str], str]:
    """Each level's name with the words every level shares taken out (``100 ms``), and those words.

    ``clickhouse latency 100 ms downstream`` for every level would not fit
    under a column; what differs does, and the rest is said once.
    """
    faulted = [text.split() for text in described.values() if text]
    if len(faulted) < 2:
        return {level: text or "no fault" for level, text in described.items()}, ""
    head = 0
    while all(len(words) > head + 1 and words[head] == faulted[0][head] for words in faulted):
        head += 1
    tail = 0
    while all(len(words) > head + tail + 1 and words[-1 - tail] == faulted[0][-1 - tail] for words in faulted) \
            and faulted[0][-1 - tail] not in UNITS:  # a number keeps its unit: "100 ms", not "100"
        tail += 1
    names = {level: " ".join(text.split()[head:len(text.split()) - tail]) if text else "no fault"
             for level, text in described.items()}
    shared = faulted[0][:head] + (["…"] if head or tail else []) + (faulted[0][-tail:] if tail else [])
    return names, " ".join(shared) if head or tail else ""
