"""report.html: one self-contained page, verdict first, then the charts people look at before any table.

Charts are matplotlib figures inlined as SVG (``harness.report.charts``),
nothing is fetched: the file can be mailed, attached to a release review or
printed. Sections come in the order a reader asks their questions: did it
hold, where did it break and why, how did each tier behave, what happened
over time, could the machine be trusted, what exactly ran. A game day
(live windows and markers, perhaps no step) opens with its timeline.

Every section is drawn on its own: one that fails (a journal damaged in a
way nothing foresaw) says so in its place and the rest of the report stands,
as a report of a broken run is exactly when one is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.report.context import ReportContext, read_context
from harness.report.page import document, paragraph, section
from harness.report.sections import Section
from harness.report.sections.breaking import breaking, undecided
from harness.report.sections.faults import faults
from harness.report.sections.header import header
from harness.report.sections.host import host
from harness.report.sections.matrix import search, surface
from harness.report.sections.recovery import incidents, recovery
from harness.report.sections.tiers import tiers
from harness.report.sections.timeline import timeline
from harness.report.sections.websocket import websocket
from harness.report.sections.what_ran import what_ran
from harness.results import RunSummary

Part = Callable[[ReportContext], Section | None]

RUN_ORDER: tuple[Part, ...] = (breaking, tiers, surface, search, timeline, undecided, faults, websocket, recovery,
                               incidents, host, what_ran)
TIMELINE_FIRST: tuple[Part, ...] = (timeline, breaking, tiers, undecided, faults, websocket, incidents, host,
                                    what_ran)


def render_html(ctx: ReportContext) -> str:
    order = TIMELINE_FIRST if ctx.timeline_first else RUN_ORDER
    sections = [found for part in order if (found := _drawn(part, ctx)) is not None]
    return document(f"Resilience report: {ctx.summary.experiment} ({ctx.summary.verdict.value})", header(ctx),
                    [(s.anchor, s.title) for s in sections],
                    [section(s.anchor, s.title, s.body) for s in sections])


def write_html(summary: RunSummary, folder: Path) -> Path:
    path = folder / "report.html"
    partial = path.with_suffix(".html.tmp")
    partial.write_text(render_html(read_context(summary, folder)), encoding="utf-8")
    partial.replace(path)  # a reader never opens half a report
    return path


def _drawn(part: Part, ctx: ReportContext) -> Section | None:
    try:
        return part(ctx)
    except Exception as exc:  # noqa: BLE001 - one section's failure must not cost the whole report
        name = part.__name__.replace("_", " ")
        return Section(part.__name__, name.capitalize(),
                       paragraph(f"This section could not be drawn ({type(exc).__name__}: {exc}); "
                                 "the rest of the report stands.", "missing"))
