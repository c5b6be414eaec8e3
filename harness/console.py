"""Console progress: step k/n, users, active toxics, per-tier verdicts with their evidence."""

from __future__ import annotations

from rich.console import Console

from harness.events import (
    Event,
    LiveWindow,
    Note,
    PrometheusUp,
    ResultsWritten,
    RunEnded,
    RunStarted,
    StackUp,
    StepRecorded,
    StepThroughPromql,
    ToxicsApplied,
)
from harness.metrics.promql import PromqlStep
from harness.plan import Plan
from harness.progress import StepBars
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
        self._promql: PromqlStep | None = None  # the step's window through PromQL (--slo-source prometheus)
        self._plan: Plan | None = None
        # A bar per step where someone watches; plain lines where a log collects the output.
        self._bars = StepBars(self.console) if self.console.is_terminal else None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.run_started(event)
        elif isinstance(event, StackUp):
            self.console.print(f"  stack up: {event.backend} backend, Toxiproxy at {event.endpoints.toxiproxy_api}")
            for note in event.notes:
                self.note(note)
        elif isinstance(event, Note):
            self.note(event.message)
        elif isinstance(event, PrometheusUp):
            self.note(f"prometheus: {event.url} (scrapes the harness and the backend; data in {event.folder})")
        elif isinstance(event, ToxicsApplied):
            toxics = ", ".join(t.describe() for t in event.toxics) or "no toxics"
            self.console.print(f"[bold]step {event.step}/{event.total_steps}[/]: {event.users} users, {toxics}")
            if self._bars is not None and self._plan is not None:
                step = self._plan.steps[event.step - 1]
                self._bars.start_step(f"step {event.step}/{event.total_steps}", step.end_s - step.start_s,
                                      event.users)
        elif isinstance(event, LiveWindow):
            if self._bars is not None:
                self._bars.live(event.results, self._slos, event.measured.users if event.measured else None)
                return
            window = event.measured.window if event.measured else None
            self.live(event.results, window[1] - window[0] if window else None)
        elif isinstance(event, StepThroughPromql):
            self._promql = event.view
        elif isinstance(event, StepRecorded):
            self.step_finished(event.record)
        elif isinstance(event, RunEnded) and self._bars is not None:
            self._bars.stop()
        elif isinstance(event, ResultsWritten):
            self.run_finished(event.summary)

    def use_slos(self, slos: dict[str, TierSlo]) -> None:
        self._slos = slos

    def run_started(self, event: RunStarted) -> None:
        plan = self._plan = event.plan
        self.console.print(f"[bold]{event.experiment}[/]: {len(plan.steps)} steps, about "
                           f"{plan.duration_s:.0f} s of load, {event.backend} backend → {event.folder}")
        self.console.print(f"  starting the {event.backend} stack…")

    def note(self, message: str) -> None:
        self.console.print(f"  {message}")

    def live(self, results: dict[str, TierResult], seconds: float | None = None) -> None:
        # Point values of the last seconds, not verdicts: those are judged once, per step.
        parts = [f"{tier} {_value(slo, results.get(tier))}" for tier, slo in self._slos.items()]
        last = f"last {seconds:.0f} s" if seconds else "last seconds"
        self.console.print(f"    [dim]live ({last}):[/] " + " · ".join(parts))

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
            promql = self._through_promql(record, tier)
            self.console.print(f"    [{STYLE[verdict]}]{tier} {_evidence(slo, report)}{promql} "
                               f"({slo.describe()}) {verdict.value}{because}[/]")
        for problem in self._promql.problems if self._promql and self._promql.index == record.index else []:
            self.console.print(f"    [yellow]PromQL:[/] {problem}")
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

    def _through_promql(self, record: StepRecord, tier: str) -> str:
        view = self._promql
        seen = view.tiers.get(tier) if view and view.index == record.index else None
        if seen is None:
            return ""
        values = ", ".join(f"p{p:g} {'–' if v is None else f'{v:g} ms'}"
                           for p, v in seen.faulted.percentiles_ms.items())
        return f"; PromQL {values} (judged)"

    def run_finished(self, summary: RunSummary) -> None:
        colour = "green" if summary.verdict.value == "pass" else STYLE.get(summary.verdict.value, "white")
        reached = "" if summary.verdict.value == summary.verdicts_reached.value else \
            f", verdicts reached: {summary.verdicts_reached.value}"
        steps = len(summary.steps)
        self.console.print(f"[{colour}]verdict {summary.verdict.value}[/] (run {summary.status.value}, "
                           f"{steps} of {summary.planned_steps} step{'s' if summary.planned_steps != 1 else ''}"
                           f"{reached})")
        if summary.score is not None:
            self.console.print(summary.score.sentence())


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
