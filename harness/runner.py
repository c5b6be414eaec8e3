"""The run lifecycle: prepare → clear leftovers → stack up → load → steps → cleanup → results.

The engine owns the plan clock, the stack and every chaos action, so cleanup
has one owner: whatever happens inside (SLO breach, Locust dying, Ctrl-C,
SIGTERM, a bug), the exit stack removes our toxics, stops Locust and stops
the stack, shielded from further signals, and the results are still written
from the journal.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import yaml

from harness.contract import ProbeSettings, StepLine, merge_lines
from harness.errors import HarnessError, SpecError, toxiproxy_errors
from harness.events import (
    ClockStarted,
    EventStream,
    LeftoversRemoved,
    LiveWindow,
    Observer,
    PrometheusUp,
    ResultsWritten,
    RunEnded,
    RunStarted,
    StackUp,
    StepRecorded,
    StepThroughPromql,
    ToxicChange,
    ToxicsApplied,
    ToxicsCleared,
)
from harness.interrupts import Interrupted, InterruptGuard, interrupt_guard
from harness.journal import Journal, JournalWriter
from harness.load import LocustDriver
from harness.metrics.observe import start_prometheus
from harness.metrics.promql import EDGE_SLACK_S, PromqlReader
from harness.metrics.slo_source import judge_through_promql
from harness.plan import Plan, Step, build_plan
from harness.probing import probe_settings
from harness.record import StepRecord, build_record, result_of
from harness.report.markdown import write_markdown
from harness.results import RunStatus, RunSummary, write_results
from harness.spec import Experiment
from harness.stack.base import Endpoints
from harness.stack.ownership import Ledger
from harness.stack.select import make_stack, remove_leftovers
from harness.vantage.collector import Vantage
from harness.vantage.views import VantageRecord
from toxics.applier import ToxicApplier
from toxics.client import ToxiproxyClient
from toxics.schedule import ToxicState

RECORD_TIMEOUT_S = 15.0
# Snapshots are cut at the window's end, exported within a poll and scraped within a second or so.
PROMQL_WAIT_S = 15.0


class Steering(Protocol):
    """Chooses a step's toxics from the records before it (None: stop the run there)."""

    def toxics_for(self, step: Step, records: list[StepRecord]) -> list[ToxicState] | None: ...


@dataclass(frozen=True)
class RunOptions:
    results_dir: Path
    backend: str = "local"  # "local" or "docker"; the CLI resolves "auto"
    offline: bool = False  # docker backend: compose/offline.yaml, the host's binaries
    observe: bool = False  # start a Prometheus of the run, scraping the harness and the backend
    metrics_address: str | None = None  # host:port of the harness's /metrics (harness.metrics.exporter)
    slo_source: str = "harness"  # "prometheus": latency SLOs judged through PromQL (needs observe)
    web_port: int | None = None  # Locust's web UI on 127.0.0.1 (None: Locust runs headless)


@dataclass(frozen=True)
class RunOutcome:
    folder: Path
    summary: RunSummary
    error: HarnessError | None


@dataclass
class RunContext:
    experiment: Experiment
    options: RunOptions
    plan: Plan
    folder: Path
    run_id: str
    events: EventStream
    guard: InterruptGuard
    probes: dict[str, ProbeSettings]
    promql: PromqlReader | None = None  # --slo-source prometheus, once Prometheus is up
    steer: Steering | None = None  # decides each step's toxics from the records so far (harness search)

    @property
    def slo_text(self) -> dict[str, str]:
        return {tier: slo.describe() for tier, slo in self.experiment.slos.items()}


def run_experiment(experiment: Experiment, options: RunOptions, observers: list[Observer],
                   steer: Steering | None = None) -> RunOutcome:
    plan = build_plan(experiment)
    folder, run_id = _create_run_folder(options.results_dir, experiment.name)
    (folder / "experiment.yaml").write_text(
        yaml.safe_dump(experiment.model_dump(mode="json", exclude_defaults=False), sort_keys=False))
    # The journal observes first: an event is on disk before anyone else hears of it.
    events = EventStream(JournalWriter(Journal(folder / "journal.jsonl")), *observers)
    error: HarnessError | None = None
    status, reason = RunStatus.COMPLETED, None
    with interrupt_guard() as guard:
        probes = probe_settings(plan, experiment.slos)
        ctx = RunContext(experiment, options, plan, folder, run_id, events, guard, probes, steer=steer)
        events.emit(RunStarted(experiment=experiment.name, run_id=run_id, backend=options.backend,
                               slo_bounds=experiment.slos, schedule=experiment.schedule,
                               planned_steps=len(plan.steps), slos=ctx.slo_text, plan=plan, probes=probes,
                               folder=folder))
        try:
            _remove_leftovers(ctx)
            _run_stack(ctx)
        except Interrupted as exc:
            status, reason = RunStatus.INTERRUPTED, str(exc)
        except HarnessError as exc:
            status, reason, error = RunStatus.FAILED, str(exc), exc
        except Exception as exc:  # noqa: BLE001 - a bug still ends the run cleanly and on record
            error = HarnessError(f"internal error: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            status, reason = RunStatus.FAILED, str(error)
        finally:
            with guard.shielded():
                if guard.received and status == RunStatus.COMPLETED:
                    status, reason = RunStatus.INTERRUPTED, f"interrupted by {guard.received}"
                events.emit(RunEnded(status=status.value, reason=reason))
    summary = write_results(folder)
    write_markdown(summary, folder)
    events.emit(ResultsWritten(folder=folder, summary=summary))
    return RunOutcome(folder, summary, error)


def _create_run_folder(results_dir: Path, name: str) -> tuple[Path, str]:
    try:
        return _new_run_folder(results_dir, name)
    except OSError as exc:
        raise SpecError(f"--results-dir {results_dir}: cannot create a run folder there ({exc.strerror})") from exc


def _new_run_folder(results_dir: Path, name: str) -> tuple[Path, str]:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-{name}"
    folder = results_dir / run_id
    suffix = 1
    while folder.exists():
        suffix += 1
        run_id = f"{stamp}-{name}-{suffix}"
        folder = results_dir / run_id
    folder.mkdir(parents=True)
    latest = results_dir / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_id)
    return folder.resolve(), run_id


def _remove_leftovers(ctx: RunContext) -> None:
    """What runs whose harness died (SIGKILL, power loss) left is removed first, and named."""
    removed = remove_leftovers(ctx.options.backend)
    if removed:
        ctx.events.note(f"removed what dead runs left: {'; '.join(removed)}")
        ctx.events.emit(LeftoversRemoved(removed=removed))


def _run_stack(ctx: RunContext) -> None:
    """Each teardown is registered before its start, so a signal mid-start still reaches it."""
    cleanup = ExitStack()
    try:
        stack = make_stack(ctx.options.backend, ctx.folder, ctx.run_id, ctx.options.offline, ctx.options.observe)
        cleanup.callback(stack.down)
        endpoints = stack.__enter__()
        ctx.events.emit(StackUp(backend=ctx.options.backend, endpoints=endpoints, notes=endpoints.notes,
                                versions=endpoints.versions))
        if ctx.options.observe:
            _start_prometheus(ctx, endpoints, cleanup)
        with toxiproxy_errors():
            client = cleanup.enter_context(ToxiproxyClient(endpoints.toxiproxy_api))
        applier = ToxicApplier(client)
        cleanup.callback(_clear_toxics, ctx, applier)
        vantage = _vantage(endpoints)
        cleanup.callback(vantage.close)
        driver = LocustDriver(ctx.plan, endpoints, ctx.folder / "load", ctx.run_id, ctx.probes,
                              Ledger.in_folder(ctx.folder, ctx.run_id), web_port=ctx.options.web_port)
        cleanup.callback(driver.stop)
        driver.start()
        if driver.web_url is not None:
            ctx.events.note(f"locust web UI: {driver.web_url} (the engine's plan drives the users)")
        _run_steps(ctx, driver, applier, vantage)
    finally:
        with ctx.guard.shielded():
            cleanup.close()


def _start_prometheus(ctx: RunContext, endpoints: Endpoints, cleanup: ExitStack) -> None:
    """Stopped after the toxics are cleared and before the stack: its last scrape sees the run end."""
    if ctx.options.metrics_address is None:
        raise SpecError("--observe needs the harness's /metrics (its address was not given)")
    prometheus = start_prometheus(ctx.folder, ctx.run_id, ctx.options.metrics_address, endpoints.backend)
    cleanup.callback(prometheus.stop)
    ctx.events.emit(PrometheusUp(url=prometheus.url, folder=prometheus.folder))
    if ctx.options.slo_source == "prometheus":
        ctx.promql = PromqlReader(prometheus.url)
        cleanup.callback(ctx.promql.close)


def _clear_toxics(ctx: RunContext, applier: ToxicApplier) -> None:
    with toxiproxy_errors():
        removed = applier.clear()
    ctx.events.emit(ToxicsCleared(removed=removed))


def _vantage(endpoints: Endpoints) -> Vantage:
    """The servers' own views, read through the control proxies: a toxic never delays them."""
    return Vantage(
        backend_url=endpoints.backend,
        redis_url=endpoints.redis_control_url or endpoints.redis_url,
        materialize_dsn=endpoints.materialize_control_dsn or endpoints.materialize_dsn,
        clickhouse_url=endpoints.clickhouse_control_url or endpoints.clickhouse_url,
    )


# What happens at each moment of a step, in the order it happens when two coincide:
# the closing window is read before the next step's toxics change anything.
WINDOW_END, STEP_START, WINDOW_START, FLUSH = range(4)


def _timeline(plan: Plan) -> list[tuple[float, int, Step]]:
    moments = []
    for step in plan.steps:
        moments += [(step.start_s, STEP_START, step), (step.window_start_s, WINDOW_START, step),
                    (step.end_s, WINDOW_END, step), (step.flush_s, FLUSH, step)]
    return sorted(moments, key=lambda item: (item[0], item[1]))


def _run_steps(ctx: RunContext, driver: LocustDriver, applier: ToxicApplier, vantage: Vantage) -> None:
    """Walk the plan's timeline: toxics, the servers' views at each window's edges, record flushes."""
    t0 = time.time()
    driver.start_clock(t0)
    ctx.events.emit(ClockStarted(t0=t0))
    live = LiveReporter(ctx, driver)
    views: dict[int, VantageRecord] = {}
    records: dict[int, StepRecord] = {}
    as_run: dict[int, Step] = {}  # steered steps, with the toxics they really had

    def record(step: Step) -> None:
        if step.index in records:
            return
        step = as_run.get(step.index, step)
        measured = driver.wait_record(step.index, RECORD_TIMEOUT_S)
        built = build_record(step, measured, ctx.experiment.slos, views.pop(step.index, None))
        if ctx.promql is not None:
            built = _judge_through_promql(ctx, ctx.promql, step, built, t0, driver, live)
        records[step.index] = built
        ctx.events.emit(StepRecorded(record=built))

    for at_s, kind, step in _timeline(ctx.plan):
        _wait_until(t0 + at_s, driver, live)
        if kind == STEP_START:
            toxics = step.toxics
            if ctx.steer is not None:
                # A steered run decides each step's fault from the steps before: the one
                # just ended is recorded first (its flush grace falls inside this settle).
                if step.index > 1:
                    record(ctx.plan.steps[step.index - 2])
                steered = ctx.steer.toxics_for(step, list(records.values()))
                if steered is None:
                    return
                toxics = steered
                as_run[step.index] = step.model_copy(update={"toxics": toxics})
            with toxiproxy_errors():
                changes = applier.apply(toxics)
            ctx.events.emit(ToxicsApplied(
                step=step.index, total_steps=len(ctx.plan.steps), users=step.users, toxics=toxics,
                changes=[ToxicChange(kind=c.kind.value, toxic=c.state) for c in changes], active=applier.active()))
        elif kind == WINDOW_START:
            vantage.window_start()
        elif kind == WINDOW_END:
            views[step.index] = vantage.window_end()
        else:
            record(step)


def _judge_through_promql(ctx: RunContext, promql: PromqlReader, step: Step, record: StepRecord, t0: float,
                          driver: LocustDriver, live: LiveReporter) -> StepRecord:
    """Once Prometheus holds the counts up to the window's end (cut, exported, scraped), read the window."""
    window = (t0 + step.window_start_s, t0 + step.end_s)
    deadline = time.time() + PROMQL_WAIT_S
    while ((until := promql.complete_until()) is None or until < window[1] - EDGE_SLACK_S) \
            and time.time() < deadline:
        _wait_until(time.time() + 0.25, driver, live)
    percentiles = {tier: list(slo.bounds()) for tier, slo in ctx.experiment.slos.items() if slo.bounds()}
    view = promql.step(step.index, window, percentiles)
    ctx.events.emit(StepThroughPromql(view=view))
    return judge_through_promql(record, step, ctx.experiment.slos, view)


class LiveReporter:
    """Emits a LiveWindow each time every load process has cut its next snapshot.

    The processes cut their snapshots at the same plan times
    (``harness.contract.live_cut_after``), each replacing its file; polled
    every quarter second, none is missed. ``fresh`` carries each snapshot
    once, and only once every process has reached its end (``fresh_until``):
    the counts so far are then exact up to that plan time, which the metrics
    exporter stamps them with.
    """

    def __init__(self, ctx: RunContext, driver: LocustDriver) -> None:
        self.ctx = ctx
        self.driver = driver
        self.until: float | None = None
        self._seen: dict[str, tuple[float, float] | None] = {}
        self._pending: list[StepLine] = []

    def __call__(self) -> None:
        lines = self.driver.live_lines()
        for source, line in lines.items():
            if line is not None and line.window is not None and line.window != self._seen.get(source):
                self._seen[source] = line.window
                self._pending.append(line)
        ends = [window[1] for window in self._seen.values() if window is not None]
        if not lines or len(ends) < len(lines):
            return
        until = min(ends)
        if self.until is not None and until <= self.until:
            return
        self.until = until
        ready = [line for line in self._pending if _ends_by(line, until)]
        self._pending = [line for line in self._pending if not _ends_by(line, until)]
        measured = merge_lines([line for line in lines.values() if line is not None])
        results = {tier: result for tier, series in measured.tiers.items()
                   if (result := result_of(series.faulted)) is not None}
        self.ctx.events.emit(LiveWindow(results=results, measured=measured,
                                        fresh=merge_lines(ready) if ready else None, fresh_until=until))


def _ends_by(line: StepLine, at: float) -> bool:
    return line.window is not None and line.window[1] <= at


def _wait_until(deadline: float, driver: LocustDriver, live: LiveReporter) -> None:
    while True:
        remaining = deadline - time.time()
        if remaining <= 0:
            return
        driver.check_alive()
        live()
        time.sleep(min(remaining, 0.25))
