"""The walk of a plan's timeline: each step's moments, toxics applied, windows read, records judged.

``harness.runner`` brings the stack and the load up and down around it
(``run_session``); the experiment's drive is ``walk_plan``, and a game-day
session reuses ``moments``, ``run_watch`` and ``judge_step`` for its windows.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from harness.contract import StepLine
from harness.errors import toxiproxy_errors
from harness.events import (
    ClockStarted,
    RunStopped,
    StepRecorded,
    StepThroughPromql,
    ToxicChange,
    ToxicsApplied,
    ToxicsCleared,
)
from harness.incidents import incident_flags
from harness.live import LiveReporter
from harness.load import LocustDriver
from harness.metrics.promql import EDGE_SLACK_S, PromqlReader
from harness.metrics.slo_source import judge_through_promql
from harness.plan import Plan, Step
from harness.record import StepRecord, build_record
from harness.stop_tracker import StopRun, StopTracker
from harness.vantage.collector import Vantage
from harness.vantage.views import VantageRecord
from harness.watch import RunWatch, ServiceWatch
from toxics.applier import ToxicApplier

if TYPE_CHECKING:
    from harness.runner import Rig, RunContext

RECORD_TIMEOUT_S = 15.0
# Snapshots are cut at the window's end, exported within a poll and scraped within a second or so.
PROMQL_WAIT_S = 15.0


def clear_toxics(ctx: RunContext, applier: ToxicApplier) -> None:
    with toxiproxy_errors():
        removed = applier.clear()
    ctx.events.emit(ToxicsCleared(removed=removed))


# What happens at each moment of a step, in the order it happens when two coincide:
# the closing window is read before the next step's toxics change anything.
WINDOW_END, STEP_START, WINDOW_START, FLUSH = range(4)


def moments(plan: Plan) -> list[tuple[float, int, Step]]:
    """Every step's moments (plan time, kind, step) in the order they happen."""
    found = []
    for step in plan.steps:
        found += [(step.start_s, STEP_START, step), (step.window_start_s, WINDOW_START, step),
                  (step.end_s, WINDOW_END, step), (step.flush_s, FLUSH, step)]
    return sorted(found, key=lambda item: (item[0], item[1]))


def walk_plan(ctx: RunContext, rig: Rig) -> None:
    """The experiment's drive: walk the plan's timeline; a stop condition ends it at once, every fault
    reverted before anything else."""
    _walk_timeline(ctx, rig.driver, rig.applier, rig.vantage, run_watch(ctx, rig))


def run_watch(ctx: RunContext, rig: Rig, stops: StopTracker | None = None) -> RunWatch:
    """The checks between a run's moments: load alive, live windows (and the stop conditions on them),
    Toxiproxy answering with our toxics on, every service of the stack alive."""
    def keep_toxiproxy() -> None:
        with toxiproxy_errors():
            rig.applier.check()

    services = ServiceWatch(rig.stack, ctx.experiment.on_store_crash, ctx.events, ctx.incidents, lambda: ctx.step)
    return RunWatch(rig.driver, LiveReporter(ctx, rig.driver), stops or StopTracker(ctx.experiment.stop_when),
                    [keep_toxiproxy, services])


def _stopping(ctx: RunContext, applier: ToxicApplier, stop: StopRun) -> StopRun:
    """A stop condition held: said, then every fault reverted at once (before the load is stopped)."""
    fired = stop.fired.model_copy(update={"step": ctx.step})
    ctx.events.emit(RunStopped(stop=fired))
    ctx.events.note(f"stopping: {fired.sentence()}; reverting every fault now")
    with ctx.guard.shielded():
        clear_toxics(ctx, applier)
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
        built = judge_step(ctx, step, measured, self.views.pop(step.index, None), self.t0, self.watch)
        self.records[step.index] = built
        ctx.events.emit(StepRecorded(record=built))

    def walk(self) -> None:
        ctx = self.ctx
        for at_s, kind, step in moments(ctx.plan):
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


def judge_step(ctx: RunContext, step: Step, measured: StepLine | None, view: VantageRecord | None, t0: float,
               watch: RunWatch) -> StepRecord:
    """A step's record as it ran: judged (through PromQL too with --slo-source prometheus), incidents flagged."""
    built = build_record(step, measured, ctx.experiment.slos, view)
    if ctx.promql is not None:
        built = _judge_through_promql(ctx, ctx.promql, step, built, t0, watch)
    incidents = incident_flags((t0 + step.start_s, t0 + step.end_s), ctx.incidents)
    if incidents:
        built = built.model_copy(update={"flags": built.flags + incidents})
    return built


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
