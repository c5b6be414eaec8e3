"""Console progress: step k/n, users, active toxics, per-tier p95 against its SLO."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.plan import Plan, Step
from harness.record import StepRecord
from harness.results import RunSummary, describe_toxic
from harness.slo import TierResult, Verdict, judge_step
from harness.spec import TierSlo
from toxics.schedule import Change

STYLE = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.NO_DATA: "yellow"}


class ConsoleProgress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)

    def run_started(self, experiment: str, folder: Path, plan: Plan, backend: str) -> None:
        self.console.print(f"[bold]{experiment}[/]: {len(plan.steps)} steps, about "
                           f"{plan.duration_s:.0f} s of load, {backend} backend → {folder}")

    def note(self, message: str) -> None:
        self.console.print(f"  {message}")

    def step_started(self, step: Step, total: int, changes: list[Change]) -> None:
        toxics = ", ".join(describe_toxic(t.link, t.type, t.attributes) for t in step.toxics) or "no toxics"
        self.console.print(f"[bold]step {step.index}/{total}[/]: {step.users} users, {toxics}")

    def live(self, results: dict[str, TierResult], slos: dict[str, TierSlo]) -> None:
        verdicts = judge_step(slos, results)
        parts = [f"[{STYLE[verdicts[tier].verdict]}]{tier} {_value(slo, results.get(tier))}[/]"
                 for tier, slo in slos.items()]
        self.console.print("    [dim]live (last 5 s):[/] " + " · ".join(parts))

    def step_finished(self, record: StepRecord, slos: dict[str, TierSlo]) -> None:
        # Printed once the step's late replies are in, i.e. while the next step settles.
        self.console.print(f"  step {record.index} measured ({record.users} users):")
        parts = []
        for tier, verdict in record.slo.items():
            slo = slos[tier]
            value = _value(slo, record.tiers.get(tier))
            parts.append(f"[{STYLE[verdict]}]{tier} {value} ({slo.describe()}) {verdict.value}[/]")
        self.console.print("    " + "\n    ".join(parts))
        for flag in record.flags:
            self.console.print(f"    [yellow]flag:[/] {flag}")

    def run_finished(self, summary: RunSummary, folder: Path) -> None:
        colour = STYLE.get(summary.verdict, "white")
        self.console.print(f"[{colour}]verdict {summary.verdict.value}[/] (run {summary.status.value}); "
                           f"results in {folder}")


def _value(slo: TierSlo, result: TierResult | None) -> str:
    """The percentiles the SLO is judged on (p95 if it only bounds errors), and errors."""
    if result is None or result.count == 0:
        return "no data" + (f", {result.errors} err" if result and result.errors else "")
    percentiles = list(slo.bounds()) or [95.0]
    value = ", ".join(f"p{p:g} {result.percentile_ms(p):g} ms" for p in percentiles)
    return value + (f", {result.errors} err" if result.errors else "")
