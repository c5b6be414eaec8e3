"""Host noise and CPU per step: whether this machine could judge what it judged."""

from __future__ import annotations

from harness.report.charts.host import host_chart
from harness.report.context import ReportContext
from harness.report.page import Cell, figure, number, table
from harness.report.sections import Section


def host(ctx: ReportContext) -> Section | None:
    steps = ctx.summary.steps
    if not steps:
        return None
    chart = host_chart(steps)
    rows = []
    for step in steps:
        noise = step.host
        values = [noise.cpu_busy_percent, noise.steal_percent, noise.iowait_percent, noise.hiccup_p99_ms,
                  noise.hiccup_p999_ms, noise.hiccup_max_ms] if noise else [None] * 6
        rows.append([step.index, step.users, *(Cell(number(v), numeric=True) for v in values),
                     Cell(number(step.generator_cpu_percent), numeric=True), "; ".join(step.flags)])
    body = (figure(chart, "CPU of the whole host and of the load generator; how late a 1 ms sleep woke.")
            if chart else "")
    body += table(["step", "users", "CPU busy %", "steal %", "iowait %", "hiccup p99 ms", "hiccup p99.9 ms",
                   "hiccup max ms", "generator CPU %", "flags"], rows)
    return Section("host", "Host noise and CPU", body)
