"""WebSocket delivery per step: messages delivered and how fast, lost, duplicated, out of order, disconnects."""

from __future__ import annotations

from harness.report.context import ReportContext
from harness.report.page import Cell, number, table
from harness.report.sections import Section

DEFECTS = ("lost", "duplicate", "out-of-order", "disconnected")


def websocket(ctx: ReportContext) -> Section | None:
    steps = [s for s in ctx.summary.steps if "websocket" in s.tiers or "websocket" in s.error_kinds]
    if not steps:
        return None
    rows = []
    for step in steps:
        result = step.tiers.get("websocket")
        kinds = step.error_kinds.get("websocket", {})
        control = result.control if result is not None else None
        rows.append([step.index, step.users, result.count if result else 0,
                     Cell(number(result.p50_ms if result else None), numeric=True),
                     Cell(number(result.p95_ms if result else None), numeric=True),
                     *(kinds.get(defect, 0) for defect in DEFECTS),
                     control.count if control is not None else "–",
                     sum(kinds.get(f"control {defect}", 0) for defect in DEFECTS[:3])])
    header = ["step", "users", "delivered", "delivery p50 ms", "delivery p95 ms", "lost", "duplicated",
              "out of order", "disconnected", "control delivered", "control lost/dup/out of order"]
    return Section("websocket", "WebSocket delivery", table(header, rows))
