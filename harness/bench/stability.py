"""verdict_stability: the baseline experiment several times; does any verdict flip between pass and fail?

``verdicts`` is {tier: {step index: [verdict of run 1, …]}} from each run's
``steps[i].slo.<tier>`` (pass, fail, inconclusive, no-data; null where a run
has no verdict there). ``stable``: no list holds both pass and fail. The
runs stay shared: host_noise reads its 100-user hiccups from them.
"""

from __future__ import annotations

from typing import Any

from harness.bench.context import BenchContext
from harness.bench.harness_runs import HarnessRun, require, run_harness
from harness.bench.stats import flips, stable, verdict_table

NAME = "verdict_stability"
SHARED_KEY = "baseline_runs"
EXPERIMENT = "baseline"


def baseline_runs(ctx: BenchContext, count: int) -> list[HarnessRun]:
    def run_all() -> list[HarnessRun]:
        step_s = ctx.settings.stability_step_s
        return [run_harness(ctx, EXPERIMENT, f"baseline-{k + 1}", step_s) for k in range(count)]

    return ctx.shared(SHARED_KEY, run_all)


def verdicts_of(run: HarnessRun) -> dict[str, dict[int, str]]:
    source = f"summary.json of {run.label}"
    found: dict[str, dict[int, str]] = {}
    for position in range(len(require(run.summary, "steps", source=source))):
        index = require(run.summary, "steps", position, "index", source=source)
        for tier, verdict in require(run.summary, "steps", position, "slo", source=source).items():
            found.setdefault(tier, {})[int(index)] = str(verdict)
    return found


def measure(ctx: BenchContext) -> dict[str, Any]:
    runs = baseline_runs(ctx, ctx.settings.stability_runs)
    table = verdict_table([verdicts_of(run) for run in runs])
    return {
        "stable": stable(table),
        "runs": len(runs),
        "step_seconds": ctx.settings.stability_step_s,
        "verdicts": table,
        "run_folders": [str(run.folder) for run in runs],
    }


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    measured = "stable" if result["stable"] else "flips: " + ", ".join(flips(result["verdicts"]))
    return [(f"verdict stability ({result['runs']} baseline runs)", measured, "stable")]
