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
    EventStream,
    IncidentRecorded,
    LeftoversRemoved,
    Observer,
    PrometheusUp,
    ResultsWritten,
    RunEnded,
    RunStarted,
    StackUp,
)
from harness.incidents import Incident
from harness.interrupts import Interrupted, InterruptGuard, interrupt_guard
from harness.journal import Journal, JournalWriter
from harness.load import LOCUSTFILE, LocustDriver
from harness.metrics.observe import start_prometheus
from harness.metrics.promql import PromqlReader
from harness.own_stack import OwnStack
from harness.plan import Plan, Step, build_plan
from harness.plan_walk import clear_toxics, walk_plan
from harness.probing import probe_settings
from harness.record import StepRecord
from harness.report.writer import write_reports
from harness.results import RunStatus, RunSummary
from harness.spec import Experiment
from harness.stack.base import Endpoints, Stack
from harness.stack.ownership import Ledger
from harness.stack.proxy_names import run_client
from harness.stack.select import make_stack, remove_leftovers
from harness.stop_tracker import StopRun
from harness.vantage.collector import Vantage
from toxics.applier import Recovery, ToxicApplier
from toxics.errors import ToxiproxyError
from toxics.schedule import ToxicState


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
    workers: int = 0  # Locust workers on this machine under a master (0: one Locust process)
    master_bind: str = "127.0.0.1"  # where the master listens for workers (another address only when asked)
    own: OwnStack | None = None  # the user's compose files or running stack, and their hooks (harness.own_stack)


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
    locustfile: Path | None = None  # another locustfile than the load driver's (a game day's: users set live)
    incidents: list[Incident] = field(default_factory=list)  # Toxiproxy restored, services died: steps flag them
    step: int | None = None  # the step running now

    @property
    def slo_text(self) -> dict[str, str]:
        return {tier: slo.describe() for tier, slo in self.experiment.slos.items()}


def run_experiment(experiment: Experiment, options: RunOptions, observers: list[Observer],
                   steer: Steering | None = None) -> RunOutcome:
    plan = build_plan(experiment)
    return run_session(experiment, plan, options, observers, walk_plan, steer=steer)


@dataclass(frozen=True)
class Ending:
    """How a drive that ended by itself wants its run recorded (a game day ended by its operator)."""

    status: RunStatus
    reason: str | None = None


@dataclass
class Rig:
    """What a run brings up, in start order: the stack, its Toxiproxy (through the applier), the
    servers' own views and the load processes. Their teardowns are on the run's exit stack."""

    stack: Stack
    endpoints: Endpoints
    applier: ToxicApplier
    vantage: Vantage
    driver: LocustDriver


# What a run does once its rig is up: walk the plan (``walk_plan``), or a game day's desk.
Drive = Callable[[RunContext, Rig], Ending | None]


def run_session(experiment: Experiment, plan: Plan, options: RunOptions, observers: list[Observer], drive: Drive,
                *, steer: Steering | None = None, schedule: str | None = None, planned_steps: int | None = None,
                locustfile: Path | None = None, probes: dict[str, ProbeSettings] | None = None) -> RunOutcome:
    """A run folder, its journal, the interrupt guard, leftovers removed, the rig up, ``drive``, the rig
    down, results: the lifecycle every run shares, whatever drives it between bring-up and teardown."""
    folder, run_id = _create_run_folder(options.results_dir, experiment.name)
    (folder / "experiment.yaml").write_text(
        yaml.safe_dump(experiment.model_dump(mode="json", exclude_defaults=False), sort_keys=False))
    # The journal observes first: an event is on disk before anyone else hears of it.
    events = EventStream(JournalWriter(Journal(folder / "journal.jsonl")), *observers)
    error: HarnessError | None = None
    status, reason = RunStatus.COMPLETED, None
    ended: Ending | None = None
    with interrupt_guard() as guard:
        probes = probes or probe_settings(plan, experiment.slos)
        ctx = RunContext(experiment, options, plan, folder, run_id, events, guard, probes, steer=steer,
                         locustfile=locustfile)
        events.emit(RunStarted(experiment=experiment.name, run_id=run_id, backend=options.backend,
                               slo_bounds=experiment.slos, schedule=schedule or experiment.schedule,
                               planned_steps=len(plan.steps) if planned_steps is None else planned_steps,
                               slos=ctx.slo_text, plan=plan, probes=probes, folder=folder))
        try:
            _remove_leftovers(ctx)
            ended = _run_stack(ctx, drive)
            if ended is not None:
                status, reason = ended.status, ended.reason
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
                # A drive that said how it ended (a game day ended by a signal) has the last word.
                if guard.received and status == RunStatus.COMPLETED and ended is None:
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


def _run_stack(ctx: RunContext, drive: Drive) -> Ending | None:
    """Each teardown is registered before its start, so a signal mid-start still reaches it."""
    cleanup = ExitStack()
    try:
        return drive(ctx, bring_up(ctx, cleanup))
    finally:
        with ctx.guard.shielded():
            cleanup.close()


def bring_up(ctx: RunContext, cleanup: ExitStack) -> Rig:
    """Stack, Toxiproxy, the servers' views, Locust and the probes; each teardown on ``cleanup`` first.

    Teardown order (the exit stack's reverse): load stopped, views closed, our
    toxics removed (every link re-enabled), Prometheus stopped, stack down.
    """
    stack = make_stack(ctx.options.backend, ctx.folder, ctx.run_id, ctx.options.offline, ctx.options.observe,
                       own=ctx.options.own)
    cleanup.callback(stack.down)
    endpoints = stack.__enter__()
    ctx.events.emit(StackUp(backend=ctx.options.backend, endpoints=endpoints, notes=endpoints.notes,
                            versions=endpoints.versions))
    if ctx.options.observe:
        _start_prometheus(ctx, endpoints, cleanup)
    with toxiproxy_errors():
        client = cleanup.enter_context(run_client(endpoints))
        applier = ToxicApplier(client, restart=_restarter(stack),
                               on_recovery=lambda recovery: _toxiproxy_restored(ctx, recovery))
        cleanup.callback(clear_toxics, ctx, applier)
        applier.check()  # what a restored Toxiproxy must have again: its proxies as they are now
    vantage = _vantage(endpoints)
    cleanup.callback(vantage.close)
    driver = LocustDriver(ctx.plan, endpoints, ctx.folder / "load", ctx.run_id, ctx.probes,
                          Ledger.in_folder(ctx.folder, ctx.run_id), web_port=ctx.options.web_port,
                          locustfile=ctx.locustfile or LOCUSTFILE, workers=ctx.options.workers,
                          master_bind=ctx.options.master_bind, on_worker_lost=ctx.events.note,
                          hooks=ctx.options.own.load_hooks() if ctx.options.own else None)
    cleanup.callback(driver.stop)
    driver.start()
    if driver.master_address is not None:
        ctx.events.note(f"locust master: {ctx.options.workers} workers, listening for more on "
                        f"{driver.master_address} (harness worker --master-host HOST --master-port PORT)")
    if driver.web_url is not None:
        ctx.events.note(f"locust web UI: {driver.web_url} (the engine's plan drives the users)")
    return Rig(stack, endpoints, applier, vantage, driver)


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
