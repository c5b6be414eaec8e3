"""What ran: the experiment as run, the backend, versions, and what stood in for what."""

from __future__ import annotations

from harness.report.context import ReportContext
from harness.report.page import esc, paragraph, table
from harness.report.sections import Section


def what_ran(ctx: ReportContext) -> Section:
    summary = ctx.summary
    facts: list[list[object]] = [["experiment", summary.experiment], ["run", summary.run_id],
                                 ["backend", summary.backend], ["schedule", summary.schedule],
                                 ["status", f"{summary.status.value}" + (f": {summary.reason}" if summary.reason else "")],
                                 ["steps", f"{len(summary.steps)} of {summary.planned_steps} planned"]]
    facts += [[f"SLO {tier}", text] for tier, text in summary.slos.items()]
    facts += [[f"probe {tier}", f"{probe.rate_per_s:g}/s over {probe.pool_size} connections"]
              for tier, probe in summary.probes.items()]
    facts += [[f"version {name}", version] for name, version in sorted(summary.versions.items())]
    body = "".join(f'<p class="note">{esc(note)}</p>' for note in summary.notes)
    body += table(["what", "as run"], facts)
    if ctx.experiment_yaml:
        body += f"<details><summary>The experiment as run (experiment.yaml)</summary><pre>{esc(ctx.experiment_yaml)}</pre></details>"
    else:
        body += paragraph("experiment.yaml is not in the run folder.", "missing")
    return Section("what-ran", "What ran", body)
