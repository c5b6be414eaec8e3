"""The run lifecycle: prepare → clear leftovers → stack up → load → steps → cleanup → results.

The engine owns the plan clock, the stack and every chaos action, so cleanup
has one owner: whatever happens inside (SLO breach, a stop condition, Locust
dying, Ctrl-C, SIGTERM, SIGHUP, a bug), the exit stack removes our toxics,
stops Locust and stops the stack, shielded from further signals, and the
results are still written from the journal.

While the steps run, ``harness.watch`` checks the live numbers against the
stop conditions (one that holds reverts every fault at once and ends the run
``aborted``), keeps Toxiproxy answering (the applier resets or restarts it and
puts the step's toxics back) and notes any service of the stack that dies;
each such incident flags the steps it met.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import yaml

from harness.contract import ProbeSettings
from harness.errors import HarnessError, SpecError, toxiproxy_errors
from harness.events import (
    ClockStarted,
    EventStream,
    IncidentRecorded,
    LeftoversRemoved,
    Observer,
    PrometheusUp,
    ResultsWritten,
    RunEnded,
    RunStarted,
    RunStopped,
    StackUp,
    StepRecorded,
    StepThroughPromql,
    ToxicChange,
    ToxicsApplied,
    ToxicsCleared,
)
from harness.incidents import Incident, incident_flags
from harness.interrupts import Interrupted, InterruptGuard, interrupt_guard
from harness.journal import Journal, JournalWriter
from harness.live import LiveReporter
from harness.load import LocustDriver
from harness.metrics.observe import start_prometheus
from harness.metrics.promql import EDGE_SLACK_S, PromqlReader
from harness.metrics.slo_source import judge_through_promql
from harness.plan import Plan, Step, build_plan
from harness.probing import probe_settings
from harness.record import StepRecord, build_record
from harness.report.writer import write_reports
from harness.results import RunStatus, RunSummary
from harness.spec import Experiment
from harness.stack.base import Endpoints, Stack
from harness.stack.ownership import Ledger
from harness.stack.select import make_stack, remove_leftovers
from harness.stop_tracker import StopRun, StopTracker
from harness.vantage.collector import Vantage
from harness.vantage.views import VantageRecord
from harness.watch import RunWatch, ServiceWatch
from toxics.applier import Recovery, ToxicApplier
from toxics.client import ToxiproxyClient
from toxics.errors import ToxiproxyError
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
    incidents: list[Incident] = field(default_factory=list)  # Toxiproxy restored, services died: steps flag them
    step: int | None = None  # the step running now

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
        except StopRun as exc:
            status, reason = RunStatus.ABORTED, f"stopped early: {exc.fired.sentence()}"
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
    summary = write_reports(folder)
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
            applier = ToxicApplier(client, restart=_restarter(stack),
                                   on_recovery=lambda recovery: _toxiproxy_restored(ctx, recovery))
            cleanup.callback(_clear_toxics, ctx, applier)
            applier.check()  # what a restored Toxiproxy must have again: its proxies as they are now
        vantage = _vantage(endpoints)
        cleanup.callback(vantage.close)
        driver = LocustDriver(ctx.plan, endpoints, ctx.folder / "load", ctx.run_id, ctx.probes,
                              Ledger.in_folder(ctx.folder, ctx.run_id), web_port=ctx.options.web_port)
        cleanup.callback(driver.stop)
        driver.start()
        if driver.web_url is not None:
            ctx.events.note(f"locust web UI: {driver.web_url} (the engine's plan drives the users)")
        _run_steps(ctx, driver, applier, vantage, stack)
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


def _restarter(stack: Stack) -> Callable[[], None]:
    """The stack's restart of Toxiproxy, in the applier's terms (toxics/ knows no harness errors)."""
    def restart() -> None:
        try:
            stack.restart_toxiproxy()
        except HarnessError as exc:
            raise ToxiproxyError(f"restarting Toxiproxy failed: {exc}") from exc
    return restart


def _toxiproxy_restored(ctx: RunContext, recovery: Recovery) -> None:
    incident = Incident(kind="toxiproxy", service="toxiproxy", began_at=recovery.last_ok_at,
                        ended_at=recovery.restored_at, what=recovery.trigger, actions=recovery.actions[1:],
                        step=ctx.step)
    ctx.incidents.append(incident)
    ctx.events.emit(IncidentRecorded(incident=incident))
    ctx.events.note(incident.flag())


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


def _run_steps(ctx: RunContext, driver: LocustDriver, applier: ToxicApplier, vantage: Vantage,
               stack: Stack) -> None:
    """Walk the plan's timeline; a stop condition ends it at once, every fault reverted before anything else."""
    def keep_toxiproxy() -> None:
        with toxiproxy_errors():
            applier.check()

    services = ServiceWatch(stack, ctx.experiment.on_store_crash, ctx.events, ctx.incidents, lambda: ctx.step)
    watch = RunWatch(driver, LiveReporter(ctx, driver), StopTracker(ctx.experiment.stop_when),
                     [keep_toxiproxy, services])
    _walk_timeline(ctx, driver, applier, vantage, watch)


def _stopping(ctx: RunContext, applier: ToxicApplier, stop: StopRun) -> StopRun:
    """A stop condition held: said, then every fault reverted at once (before the load is stopped)."""
    fired = stop.fired.model_copy(update={"step": ctx.step})
    ctx.events.emit(RunStopped(stop=fired))
    ctx.events.note(f"stopping: {fired.sentence()}; reverting every fault now")
    with ctx.guard.shielded():
        _clear_toxics(ctx, applier)
    return StopRun(fired)


def _walk_timeline(ctx: RunContext, driver: LocustDriver, applier: ToxicApplier, vantage: Vantage,
                   watch: RunWatch) -> None:
    t0 = time.time()
    driver.start_clock(t0)
    ctx.events.emit(ClockStarted(t0=t0))
    timeline = _Timeline(ctx, t0, driver, applier, vantage, watch)
    try:
        timeline.walk()
    except StopRun as stop:
        stopped = _stopping(ctx, applier, stop)
        # A window that closed before the stop is whole: its record comes at its flush, seconds away.
        for step in timeline.closed:
            timeline.record(step)
        raise stopped from None


class _Timeline:
    """Walks the plan's timeline: toxics, the servers' views at each window's edges, record flushes."""

    def __init__(self, ctx: RunContext, t0: float, driver: LocustDriver, applier: ToxicApplier, vantage: Vantage,
                 watch: RunWatch) -> None:
        self.ctx, self.t0, self.driver, self.applier, self.vantage, self.watch = ctx, t0, driver, applier, vantage, watch
        self.views: dict[int, VantageRecord] = {}
        self.records: dict[int, StepRecord] = {}
        self.as_run: dict[int, Step] = {}  # steered steps, with the toxics they really had
        self.closed: list[Step] = []  # steps whose window has ended

    def record(self, step: Step) -> None:
        ctx = self.ctx
        if step.index in self.records:
            return
        step = self.as_run.get(step.index, step)
        measured = self.driver.wait_record(step.index, RECORD_TIMEOUT_S)
        built = build_record(step, measured, ctx.experiment.slos, self.views.pop(step.index, None))
        if ctx.promql is not None:
            built = _judge_through_promql(ctx, ctx.promql, step, built, self.t0, self.watch)
        incidents = incident_flags((self.t0 + step.start_s, self.t0 + step.end_s), ctx.incidents)
        if incidents:
            built = built.model_copy(update={"flags": built.flags + incidents})
        self.records[step.index] = built
        ctx.events.emit(StepRecorded(record=built))

    def walk(self) -> None:
        ctx = self.ctx
        for at_s, kind, step in _timeline(ctx.plan):
            self.watch.wait_until(self.t0 + at_s)
            if kind == STEP_START:
                ctx.step = step.index
                toxics = step.toxics
                if ctx.steer is not None:
                    # A steered run decides each step's fault from the steps before: the one
                    # just ended is recorded first (its flush grace falls inside this settle).
                    if step.index > 1:
                        self.record(ctx.plan.steps[step.index - 2])
                    steered = ctx.steer.toxics_for(step, list(self.records.values()))
                    if steered is None:
                        return
                    toxics = steered
                    self.as_run[step.index] = step.model_copy(update={"toxics": toxics})
                with toxiproxy_errors():
                    changes = self.applier.apply(toxics)
                ctx.events.emit(ToxicsApplied(
                    step=step.index, total_steps=len(ctx.plan.steps), users=step.users, toxics=toxics,
                    changes=[ToxicChange(kind=c.kind.value, toxic=c.state) for c in changes],
                    active=self.applier.active()))
            elif kind == WINDOW_START:
                self.vantage.window_start()
            elif kind == WINDOW_END:
                self.views[step.index] = self.vantage.window_end()
                self.closed.append(step)
            else:
                self.record(step)


def _judge_through_promql(ctx: RunContext, promql: PromqlReader, step: Step, record: StepRecord, t0: float,
                          watch: RunWatch) -> StepRecord:
    """Once Prometheus holds the counts up to the window's end (cut, exported, scraped), read the window."""
    window = (t0 + step.window_start_s, t0 + step.end_s)
    deadline = time.time() + PROMQL_WAIT_S
    while ((until := promql.complete_until()) is None or until < window[1] - EDGE_SLACK_S) \
            and time.time() < deadline:
        watch.wait_until(time.time() + 0.25)
    percentiles = {tier: list(slo.bounds()) for tier, slo in ctx.experiment.slos.items() if slo.bounds()}
    view = promql.step(step.index, window, percentiles)
    ctx.events.emit(StepThroughPromql(view=view))
    return judge_through_promql(record, step, ctx.experiment.slos, view)
