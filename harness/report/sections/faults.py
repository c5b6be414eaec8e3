"""Requested vs effective fault per step and link: what was asked of Toxiproxy, and what it added."""

from __future__ import annotations

from harness.report.context import ReportContext
from harness.report.page import Cell, number, paragraph, table
from harness.report.sections import Section


def faults(ctx: ReportContext) -> Section | None:
    steps = ctx.summary.steps
    if not steps:
        return None
    rows = []
    for step in steps:
        for link, effect in step.links.items():
            rows.append([step.index, step.users, link, effect.requested,
                         Cell(number(effect.requested_latency_ms, " ms", "g"), numeric=True),
                         Cell(_added(effect.effective_added_ms), numeric=True),
                         Cell(_added(effect.effective_added_p95_ms), numeric=True)])
    if not rows:
        return Section("faults", "Faults: requested and effective", paragraph("No fault was applied in any step."))
    intro = paragraph("Effective: the faulted path minus the control path at the same moment, so what the proxy "
                      "and the toxic really added (a latency toxic adds a little more than asked).", "meta")
    return Section("faults", "Faults: requested and effective", intro + table(
        ["step", "users", "link", "requested", "requested latency", "effective added p50", "effective added p95"],
        rows))


def _added(value: float | None) -> str:
    return "–" if value is None else f"{value:+.3g} ms"
