"""One look for every chart: a colour-blind-safe palette, print-legible text, SVG rendered offline.

The palette is Okabe and Ito's (distinguishable with every common colour
vision deficiency, and in greyscale by line style); sizes are chosen so a
chart 17 cm wide (A4 with margins) keeps 8 pt text.
"""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")  # no display, nothing fetched: figures render to SVG text

from matplotlib import pyplot as plt  # noqa: E402  (after the backend is chosen)
from matplotlib.figure import Figure  # noqa: E402

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
LINE_STYLES = ["-", "--", "-.", ":"]
PASS_COLOUR, FAIL_COLOUR, INCONCLUSIVE_COLOUR, NO_DATA_COLOUR = "#009E73", "#D55E00", "#E69F00", "#BBBBBB"
SLO_COLOUR, CONTROL_COLOUR = "#000000", "#7F7F7F"
A4_WIDTH_IN = 17 / 2.54

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


def new_figure(height_in: float = 2.8, width_in: float = A4_WIDTH_IN, ncols: int = 1) -> tuple[Figure, object]:
    """A figure in the report's style and its axes (one, or a row of ``ncols``)."""
    with plt.rc_context(RC):
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
        axes = figure.subplots(1, ncols, squeeze=True)
    return figure, axes


def svg(figure: Figure, title: str) -> str:
    """The figure as an inline ``<svg>`` element labelled ``title`` (no XML prolog, no fixed pixel size)."""
    buffer = io.StringIO()
    with plt.rc_context(RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # Scale with the page: drop the fixed width/height, keep the viewBox.
    text = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r"<svg\1", text, count=1)
    return text.replace("<svg", f'<svg role="img" aria-label="{_escape(title)}"', 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
