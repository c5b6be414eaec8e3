"""How noisy the host was per step: all cores' CPU and the load generator's, and how late a 1 ms sleep woke."""

from __future__ import annotations

from collections.abc import Sequence

from harness.record import StepRecord
from harness.report.charts.axes import categorical_x, gap, latency_axis, legend_below
from harness.report.charts.style import FAIL_COLOUR, OKABE_ITO, new_figure, styled, svg

# Past this the load generator's own timing is suspect (see the trust flags).
GENERATOR_CPU_LIMIT = 80.0


@styled
def host_chart(steps: Sequence[StepRecord]) -> str | None:
    if not any(s.host is not None or s.generator_cpu_percent is not None for s in steps):
        return None
    figure, (cpu, hiccup) = new_figure(height_in=3.0, ncols=2)
    xs = list(range(len(steps)))
    busy = [s.host.cpu_busy_percent if s.host else None for s in steps]
    steal = [s.host.steal_percent if s.host else None for s in steps]
    cpu.bar(xs, [v or 0 for v in busy], color=OKABE_ITO[4], label="host CPU busy (all cores)")
    cpu.plot(xs, [gap(v) for v in steal], color=OKABE_ITO[1], marker="o", ms=3, label="steal")
    cpu.plot(xs, [gap(s.generator_cpu_percent) for s in steps], color="#000000", marker="s", ms=3,
             label="load generator CPU")
    cpu.axhline(GENERATOR_CPU_LIMIT, color=FAIL_COLOUR, ls=":", lw=1, label="generator trust limit 80 %")
    cpu.set_ylim(0, 105)
    cpu.set_ylabel("CPU (%)")
    cpu.set_title("CPU per step")
    fields = (("hiccup_p99_ms", "hiccup p99", OKABE_ITO[0]), ("hiccup_p999_ms", "hiccup p99.9", OKABE_ITO[5]),
              ("hiccup_max_ms", "hiccup max", "#000000"))
    values: list[float | None] = []
    for field, label, colour in fields:
        series = [getattr(s.host, field) if s.host else None for s in steps]
        values += series
        hiccup.plot(xs, [gap(v) for v in series], marker="o", ms=3, color=colour, label=label)
    latency_axis(hiccup, values, "lateness of a 1 ms sleep (ms)")
    hiccup.set_title("host noise (hiccup meter)")
    legend_below(figure, [cpu, hiccup], columns=4)  # below: at 100 % CPU a legend inside would hide the bars
    labels = [f"{s.index}" for s in steps]
    for ax in (cpu, hiccup):
        categorical_x(ax, labels, "step")
    return svg(figure, "Host noise and CPU per step")
