"""Console progress: step k/n, users, active toxics, per-tier p95 against its SLO."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.plan import Plan, Step
from harness.record import StepRecord
from harness.results import RunSummary, describe_toxic
from harness.slo import Verdict
from harness.spec import TierSlo
from toxics.schedule import Change

STYLE = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.NO_DATA: "yellow"}


class ConsoleProgress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)

    def run_started(self, experiment: str, folder: Path, plan: Plan, backend: str) -> None:
        self.console.print(f"[bold]{experiment}[/]: {len(plan.steps)} steps, about "
                           f"{plan.duration_s:.0f} s of load, {backend} backend → {folder}")

    def note(self, message: str) -> None:
        self.console.print(f"  {message}")

    def step_started(self, step: Step, total: int, changes: list[Change]) -> None:
        toxics = ", ".join(describe_toxic(t.link, t.type, t.attributes) for t in step.toxics) or "no toxics"
        self.console.print(f"[bold]step {step.index}/{total}[/]: {step.users} users, {toxics}")

    def step_finished(self, record: StepRecord, slos: dict[str, TierSlo]) -> None:
        # Printed once the step's late replies are in, i.e. while the next step settles.
        self.console.print(f"  step {record.index} measured ({record.users} users):")
        parts = []
        for tier, verdict in record.slo.items():
            result = record.tiers.get(tier)
            slo = slos[tier]
            # Show the percentiles the SLO is judged on (p95 if it only bounds errors).
            percentiles = list(slo.bounds()) or [95.0]
            if result is None or result.count == 0:
                value = "no data"
            else:
                value = ", ".join(f"p{p:g} {result.percentile_ms(p):g} ms" for p in percentiles)
            errors = f", {result.errors} err" if result and result.errors else ""
            parts.append(f"[{STYLE[verdict]}]{tier} {value}{errors} ({slo.describe()}) {verdict.value}[/]")
        self.console.print("    " + "\n    ".join(parts))
        for flag in record.flags:
            self.console.print(f"    [yellow]flag:[/] {flag}")

    def run_finished(self, summary: RunSummary, folder: Path) -> None:
        colour = STYLE.get(summary.verdict, "white")
        self.console.print(f"[{colour}]verdict {summary.verdict.value}[/] (run {summary.status.value}); "
                           f"results in {folder}")
