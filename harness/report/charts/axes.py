"""Axis habits every chart shares: log scale when values span orders of magnitude, thinned labels, legends below."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

# Past this ratio of largest to smallest value, a linear axis squashes the small ones flat.
LOG_RATIO = 20.0
MAX_TICK_LABELS = 12


def gap(value: float | None) -> float:
    """A value for a line: None becomes NaN, which matplotlib leaves as a gap (not a zero)."""
    return math.nan if value is None else value


def wants_log(values: Iterable[float | None]) -> bool:
    present = [v for v in values if v is not None and not math.isnan(v) and v > 0]
    return bool(present) and max(present) / min(present) > LOG_RATIO


def latency_axis(ax: Axes, values: Iterable[float | None], label: str = "latency (ms)") -> bool:
    """Log or linear by the values' span; plain-number tick labels either way. True when log."""
    log = wants_log(values)
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        # 1-2-5 majors are enough to read by; minor ticks would only cost time (each one an artist).
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_ylabel(f"{label}{', log scale' if log else ''}")
    return log


def categorical_x(ax: Axes, labels: Sequence[str], title: str, most: int = MAX_TICK_LABELS) -> None:
    """Positions 0…n−1 labelled; past ``most``, every k-th label only (the rest would overlap)."""
    every = max(1, math.ceil(len(labels) / most))
    positions = list(range(0, len(labels), every))
    ax.set_xticks(positions, [labels[i] for i in positions])
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_xlabel(title)


def legend_below(figure: Figure, axes: Sequence[Axes], columns: int = 4) -> None:
    """One legend for the figure, under it, with each label once."""
    seen: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if not label.startswith("_"):
                seen.setdefault(label, handle)
    if seen:
        figure.legend(list(seen.values()), list(seen), loc="outside lower center",
                      ncols=min(columns, len(seen)), frameon=False)
