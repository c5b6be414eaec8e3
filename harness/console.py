"""Console progress: step k/n, users, active toxics, per-tier p95 against its SLO."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from harness.plan import Plan, Step
from harness.record import StepRecord
from harness.results import RunSummary, describe_toxic
from harness.slo import Verdict
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

    def step_finished(self, record: StepRecord, slos: dict[str, str]) -> None:
        # Printed once the step's late replies are in, i.e. while the next step settles.
        self.console.print(f"  step {record.index} measured ({record.users} users):")
        parts = []
        for tier, verdict in record.slo.items():
            result = record.tiers.get(tier)
            value = "no data" if result is None or result.p95_ms is None else f"p95 {result.p95_ms:g} ms"
            errors = f", {result.errors} err" if result and result.errors else ""
            parts.append(f"[{STYLE[verdict]}]{tier} {value}{errors} ({slos.get(tier, '')}) {verdict.value}[/]")
        self.console.print("    " + "\n    ".join(parts))
        for flag in record.flags:
            self.console.print(f"    [yellow]flag:[/] {flag}")

    def run_finished(self, summary: RunSummary, folder: Path) -> None:
        colour = STYLE.get(summary.verdict, "white")
        self.console.print(f"[{colour}]verdict {summary.verdict.value}[/] (run {summary.status.value}); "
                           f"results in {folder}")
