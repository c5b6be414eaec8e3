"""Console progress: step k/n, users, active toxics, per-tier verdicts with their evidence."""

from __future__ import annotations

from rich.console import Console

from harness.events import Event, LiveWindow, Note, ResultsWritten, RunStarted, StackUp, StepRecorded, ToxicsApplied
from harness.record import StepRecord, TierReport
from harness.results import RunSummary
from harness.slo import TierResult, Verdict
from harness.spec import TierSlo

STYLE = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.INCONCLUSIVE: "yellow", Verdict.NO_DATA: "yellow",
         "incomplete": "yellow"}


class ConsoleProgress:
    """The run on the terminal, as an observer of its event stream."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self._slos: dict[str, TierSlo] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_started(event)
        elif isinstance(event, StackUp):
            self.console.print(f"  stack up: {event.backend} backend, Toxiproxy at {event.endpoints.toxiproxy_api}")
            for note in event.notes:
                self.note(note)
        elif isinstance(event, Note):
            self.note(event.message)
        elif isinstance(event, ToxicsApplied):
            toxics = ", ".join(t.describe() for t in event.toxics) or "no toxics"
            self.console.print(f"[bold]step {event.step}/{event.total_steps}[/]: {event.users} users, {toxics}")
        elif isinstance(event, LiveWindow):
            self.live(event.results)
        elif isinstance(event, StepRecorded):
            self.step_finished(event.record)
        elif isinstance(event, ResultsWritten):
            self.run_finished(event.summary)

    def use_slos(self, slos: dict[str, TierSlo]) -> None:
        self._slos = slos

    def run_started(self, event: RunStarted) -> None:
        plan = event.plan
        self.console.print(f"[bold]{event.experiment}[/]: {len(plan.steps)} steps, about "
                           f"{plan.duration_s:.0f} s of load, {event.backend} backend → {event.folder}")
        self.console.print(f"  starting the {event.backend} stack…")

    def note(self, message: str) -> None:
        self.console.print(f"  {message}")

    def live(self, results: dict[str, TierResult]) -> None:
        # Point values of the last seconds, not verdicts: those are judged once, per step.
        parts = [f"{tier} {_value(slo, results.get(tier))}" for tier, slo in self._slos.items()]
        self.console.print("    [dim]live (last 5 s):[/] " + " · ".join(parts))

    def step_finished(self, record: StepRecord) -> None:
        # Printed once the step's late replies are in, i.e. while the next step settles.
        self.console.print(f"  step {record.index} measured ({record.users} users):")
        for tier, verdict in record.slo.items():
            slo = self._slos.get(tier)
            if slo is None:
                continue
            report = record.tiers.get(tier)
            cause = record.cause.get(tier)
            because = f", cause {cause.value}" if cause else ""
            self.console.print(f"    [{STYLE[verdict]}]{tier} {_evidence(slo, report)} "
                               f"({slo.describe()}) {verdict.value}{because}[/]")
        for link, effect in record.links.items():
            if effect.effective_added_ms is not None:
                self.console.print(f"    {link}: asked {effect.requested}, measured +{effect.effective_added_ms:g} ms "
                                   "at p50 (faulted − control)")
        host = record.host
        if host is not None and host.hiccup_p999_ms is not None:
            self.console.print(f"    [dim]host: CPU {host.cpu_busy_percent or 0:.0f}%, steal "
                               f"{host.steal_percent or 0:.1f}%, hiccup p99 {host.hiccup_p99_ms:g} / p99.9 "
                               f"{host.hiccup_p999_ms:g} ms[/]")
        for flag in record.flags:
            self.console.print(f"    [yellow]flag:[/] {flag}")

    def run_finished(self, summary: RunSummary) -> None:
        colour = "green" if summary.verdict.value == "pass" else STYLE.get(summary.verdict.value, "white")
        reached = "" if summary.verdict.value == summary.verdicts_reached.value else \
            f", verdicts reached: {summary.verdicts_reached.value}"
        steps = len(summary.steps)
        self.console.print(f"[{colour}]verdict {summary.verdict.value}[/] (run {summary.status.value}, "
                           f"{steps} of {summary.planned_steps} step{'s' if summary.planned_steps != 1 else ''}"
                           f"{reached})")


def _value(slo: TierSlo, result: TierResult | None) -> str:
    """The percentiles the SLO is judged on (p95 if it only bounds errors), and errors."""
    if result is None or result.count == 0:
        return "no data" + (f", {result.errors} err" if result and result.errors else "")
    percentiles = list(slo.bounds()) or [95.0]
    value = ", ".join(f"p{p:g} {result.percentile_ms(p):g} ms" for p in percentiles)
    if slo.error_ratio is not None:
        value += f", errors {result.error_ratio:.2%}"
    elif result.errors:
        value += f", {result.errors} err"
    return value


def _evidence(slo: TierSlo, report: TierReport | None) -> str:
    text = _value(slo, report)
    if report is None or report.count == 0:
        return text
    if report.ci_ms is not None:
        low, high = report.ci_ms
        text += f" [95 % CI {low:g}–{'∞' if high is None else f'{high:g}'}]"
    percentiles = list(slo.bounds())
    if report.control is not None and report.control.count and percentiles:
        p = percentiles[-1]
        text += f", control p{p:g} {report.control.percentile_ms(p):g} ms"
    return text
