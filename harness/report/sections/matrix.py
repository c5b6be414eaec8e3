"""A matrix run's surface (users × fault level) and a breaking-point search's windows."""

from __future__ import annotations

from pydantic import ValidationError

from harness.report.charts.heatmap import surface_chart
from harness.report.charts.search import search_chart
from harness.report.context import ReportContext
from harness.report.page import Cell, figure, number, paragraph, table, verdict_tag
from harness.report.sections import Section
from harness.search import SearchResult

FIELDS = {50.0: "p50_ms", 95.0: "p95_ms", 99.0: "p99_ms"}


def surface(ctx: ReportContext) -> Section | None:
    cells = ctx.summary.surface
    if not cells:
        return None
    fields = {tier: FIELDS.get(ctx.percentile(tier), "p95_ms") for tier in ctx.tiers()}
    chart = surface_chart(cells, fields)
    rows = []
    for cell in sorted(cells, key=lambda c: (c.level, c.users)):
        for tier, data in sorted(cell.tiers.items()):
            value = data.get(fields.get(tier, "p95_ms"))
            verdict = data.get("verdict")
            rows.append([cell.step, cell.users, "; ".join(cell.toxics) or "no fault", tier,
                         Cell(number(value if isinstance(value, int | float) else None), numeric=True),
                         Cell(verdict_tag(str(verdict)), markup=True) if verdict else "–"])
    body = (figure(chart, "Each cell: the judged percentile (ms), coloured by its verdict.") if chart else "")
    body += table(["step", "users", "fault", "tier", "judged percentile ms", "verdict"], rows)
    return Section("surface", "Surface: users × fault level", body)


def search(ctx: ReportContext) -> Section | None:
    found = ctx.summary.search
    if not found:
        return None
    try:
        result = SearchResult.model_validate(found)
    except ValidationError:
        return Section("search", "Breaking-point search",
                       paragraph("The search's result in the journal could not be read.", "missing"))
    chart = search_chart(result)
    body = paragraph(result.sentence() + ".")
    if chart:
        body += figure(chart, "Each window the search measured, in order: its magnitude and verdict.")
    body += table(["window (step)", result.field, "verdict", "judged percentile ms"],
                  [[w.step, w.magnitude, Cell(verdict_tag(w.verdict.value), markup=True),
                    Cell(number(w.value_ms), numeric=True)] for w in result.windows])
    return Section("search", "Breaking-point search", body)
