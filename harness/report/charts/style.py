"""One look for every chart: a colour-blind-safe palette, print-legible text, SVG rendered offline.

The palette is Okabe and Ito's (distinguishable with every common colour
vision deficiency, and in greyscale by line style); sizes are chosen so a
chart 17 cm wide (A4 with margins) keeps 8 pt text.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import matplotlib

matplotlib.use("Agg")  # no display, nothing fetched: figures render to SVG text

from matplotlib import pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
LINE_STYLES = ["-", "--", "-.", ":"]
PASS_COLOUR, FAIL_COLOUR, INCONCLUSIVE_COLOUR, NO_DATA_COLOUR = "#009E73", "#D55E00", "#E69F00", "#BBBBBB"
SLO_COLOUR, CONTROL_COLOUR = "#000000", "#7F7F7F"
A4_WIDTH_IN = 17 / 2.54
# Every chart draws a tier in the same colour.
TIER_COLOURS = {"redis": OKABE_ITO[0], "materialize": OKABE_ITO[1], "clickhouse": OKABE_ITO[2],
                "websocket": OKABE_ITO[3], "http": OKABE_ITO[5]}

RC = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.fonttype": "none",  # text stays text: searchable, selectable, sharp when printed
    "svg.hashsalt": "flowforge",  # the same figure renders to the same SVG (diffable reports)
}


P = ParamSpec("P")
R = TypeVar("R")


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a chart-drawing function with the report's rcParams active.

    matplotlib reads rcParams when each artist is created (a legend's font
    size, a line's width), not when the figure is saved: a chart drawn
    outside this context would silently mix the report's style with the
    defaults. Decorate every function that draws.
    """

    @functools.wraps(draw)
    def inner(*args: P.args, **kwargs: P.kwargs) -> R:
        with plt.rc_context(RC):
            return draw(*args, **kwargs)

    return inner


def tier_colour(tier: str, position: int = 0) -> str:
    return TIER_COLOURS.get(tier, OKABE_ITO[position % len(OKABE_ITO)])


def new_figure(height_in: float = 2.8, width_in: float = A4_WIDTH_IN, ncols: int = 1, nrows: int = 1,
               **subplots: object) -> tuple[Figure, object]:
    """A figure in the report's style and its axes (one, a row of ``ncols``, or a grid); ``subplots`` as matplotlib's."""
    with plt.rc_context(RC):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        axes = figure.subplots(nrows, ncols, **{"squeeze": True, **subplots})  # type: ignore[arg-type]
    return figure, axes


def svg(figure: Figure, title: str) -> str:
    """The figure as an inline ``<svg>`` element labelled ``title`` (no XML prolog, no fixed pixel size)."""
    buffer = io.StringIO()
    with plt.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = _own_ids(text)
    # Scale with the page: drop the fixed width/height, keep the viewBox.
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"<svg\1", text, count=1)
    return text.replace("<svg", f'<svg role="img" aria-label="{_escape(title)}"', 1)


def _own_ids(text: str) -> str:
    """Every id of the SVG prefixed with one of its own, and every reference to them.

    matplotlib numbers its groups the same in every figure (``figure_1``,
    ``axes_1``): inlined side by side in one page, they would clash.
    The prefix comes from the SVG's own text, so the output stays the same
    for the same figure.
    """
    prefix = "c" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8] + "-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
