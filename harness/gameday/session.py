"""A game-day session: the run's rig up, steady load, the operator's desk served, every fault reverted on exit.

It is a run like any other (``harness.runner.run_session``: run folder,
journal, interrupt guard, leftovers, stack and load up, everything torn down
shielded from signals) whose drive is this desk instead of a plan walk. The
plan is only a row of measurement windows (``--window-seconds`` each, up to
``--max-duration``), so every window is recorded and judged as a step, with
the users and faults it really had.

One thread (the main one) owns Toxiproxy and the journal: it takes the API's
commands from the desk between its other duties, each loop of a quarter
second: the plan's window edges and records, faults whose revert time came,
the live windows (SLO states, halt conditions), Toxiproxy and the services
still answering. Ctrl-C, SIGTERM or SIGHUP end the session: every fault
reverted (said in the journal), the API closed, then the rig torn down.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from harness.contract import ProbeSettings
from harness.errors import SpecError
from harness.events import ClockStarted, Observer, StepRecorded
from harness.gameday.actions import Actions
from harness.gameday.desk import Answer, Command, Desk
from harness.gameday.events import FaultView, SessionOpened, SloStateChanged, VerdictChanged
from harness.gameday.refused import Refused
from harness.gameday.requests import describe_duration
from harness.gameday.script import Script
from harness.gameday.server import ControlServer, ControlSettings
from harness.gameday.slo_state import SloStates
from harness.gameday.state import Board, ScriptState, SessionState, StateKeeper
from harness.gameday.users_file import UsersWanted, write_users
from harness.interrupts import Interrupted
from harness.plan import Plan, build_plan
from harness.plan_walk import (
    FLUSH,
    RECORD_TIMEOUT_S,
    STEP_START,
    WINDOW_END,
    WINDOW_START,
    judge_step,
    moments,
    run_watch,
)
from harness.probing import probe_settings
from harness.record import StepRecord
from harness.results import RunStatus
from harness.runner import Ending, Rig, RunContext, RunOptions, RunOutcome, run_session
from harness.slo import Verdict
from harness.spec import EXPERIMENTS_DIR, MAX_STEPS, Experiment, Ramp, load_slo_defaults
from harness.stack.binaries import REPO_ROOT
from harness.stop_tracker import StopRun, StopTracker
from harness.vantage.views import VantageRecord
from harness.watch import RunWatch
from toxics.links import LINKS
from toxics.schedule import ToxicState

GAMEDAY_LOCUSTFILE = REPO_ROOT / "locustfiles" / "gameday.py"
POLL_S = 0.25
# A game day's faults are not known in advance: the probes' pools are sized as if every link
# may carry this much latency, so their schedule keeps pace through the usual faults (slower
# calls are still counted from their intended send time, only fewer of them are made).
HEADROOM_MS = 500


@dataclass(frozen=True)
class GameDaySettings:
    control: ControlSettings = field(default_factory=ControlSettings)
    users: int = 10
    spawn_rate: float = 10.0
    revert_after_s: float = 300.0
    window_s: float = 60.0
    max_duration_s: float = 4 * 3600.0
    script: Experiment | None = None


def gameday_experiment(settings: GameDaySettings) -> Experiment:
    """The session as an experiment: a row of equal measurement windows at the starting users, no faults."""
    windows = math.ceil(settings.max_duration_s / settings.window_s - 1e-9)
    if windows > MAX_STEPS:
        raise SpecError(f"--max-duration {describe_duration(settings.max_duration_s)} in windows of "
                        f"{settings.window_s:g} s is {windows} windows, more than {MAX_STEPS}: "
                        "lengthen --window-seconds or shorten --max-duration")
    script = settings.script
    name = f"gameday-{script.name}"[:64] if script else "gameday"
    return Experiment(
        name=name,
        description=f"game day stepping through {script.name}" if script else "game day: faults by hand",
        ramp=Ramp(users=[max(settings.users, 1)] * windows, spawn_rate=settings.spawn_rate,
                  step_s=settings.window_s, settle_s=0.0),
        slos=dict(script.slos) if script else load_slo_defaults(EXPERIMENTS_DIR),
        stop_when=list(script.stop_when) if script else [],
        on_store_crash=script.on_store_crash if script else "continue",
    )


def gameday_probes(plan: Plan, experiment: Experiment) -> dict[str, ProbeSettings]:
    """The probes' settings as if each datastore link carried HEADROOM_MS of latency (see above)."""
    headroom = [ToxicState(link=link, type="latency", stream="downstream", toxicity=1.0,  # type: ignore[arg-type]
                           attributes={"latency": HEADROOM_MS}) for link in LINKS]
    first = plan.steps[0].model_copy(update={"toxics": headroom})
    return probe_settings(plan.model_copy(update={"steps": [first, *plan.steps[1:]]}), experiment.slos)


def run_gameday(settings: GameDaySettings, options: RunOptions, observers: list[Observer]) -> RunOutcome:
    experiment = gameday_experiment(settings)
    plan = build_plan(experiment)
    script = Script(settings.script) if settings.script else None
    keeper = StateKeeper(experiment.slos)
    session = GameDay(settings, script, keeper)
    # planned_steps 0: a game day plans no number of windows; it is complete when its operator ends it.
    return run_session(experiment, plan, options, [keeper, *observers], session, schedule="gameday",
                       planned_steps=0, locustfile=GAMEDAY_LOCUSTFILE, probes=gameday_probes(plan, experiment))


@dataclass
class _Window:
    """What one measurement window really had: users and faults at its end, and what changed within it."""

    users: int
    toxics: list[ToxicState]
    changes: list[str] = field(default_factory=list)
    view: VantageRecord | None = None
    due_at: float | None = None  # its flush time passed: record it by then + RECORD_TIMEOUT_S at the latest


class GameDay:
    """The drive of a game-day run (``harness.runner.Drive``)."""

    def __init__(self, settings: GameDaySettings, script: Script | None, keeper: StateKeeper) -> None:
        self.settings = settings
        self.script = script
        self.keeper = keeper
        self.desk = Desk()
        self.board = Board()
        self.windows: dict[int, _Window] = {}
        self.records: dict[int, StepRecord] = {}
        self.ending = False
        self.slo_states = SloStates({})
        self.halts: list[str] = []
        self._windows_judged = 0

    # -- the drive -------------------------------------------------------------

    def __call__(self, ctx: RunContext, rig: Rig) -> Ending:
        self.ctx, self.rig = ctx, rig
        self.slo_states = SloStates(ctx.experiment.slos)
        self.halts = [condition.describe() for condition in ctx.experiment.stop_when]
        wanted = UsersWanted(users=self.settings.users, spawn_rate=self.settings.spawn_rate)
        self.actions = Actions(ctx.events, rig.applier, rig.driver.load.folder, self.settings.revert_after_s,
                               self.script, wanted, self._changed)
        write_users(rig.driver.load.folder, wanted)
        server = ControlServer(self.settings.control, self.desk, self.board)
        try:
            server.start()
            self._publish()
            ctx.events.emit(SessionOpened(
                control_url=server.url, users=wanted.users, revert_after_s=self.settings.revert_after_s,
                script=self.script.name if self.script else None, halt_conditions=self.halts,
                marker=f"game day opened at {wanted.users} users"
                       + (f", script {self.script.name}" if self.script else "")))
            ctx.events.note(f"control page: {server.url}{'?token=…' if self.settings.control.token else ''}"
                            " (Ctrl-C ends the session, reverting every fault)")
            return self._serve()
        except Interrupted as exc:
            return Ending(RunStatus.COMPLETED, f"ended by the operator ({exc.signal_name})")
        finally:
            with ctx.guard.shielded():
                self.ending = True
                self.desk.close("the game-day session is ending")
                self.board.close()
                self.actions.revert_all_at_end()
                self._publish()
                server.stop()

    def _serve(self) -> Ending:
        ctx, rig = self.ctx, self.rig
        t0 = time.time()
        self.t0 = t0
        rig.driver.start_clock(t0)
        ctx.events.emit(ClockStarted(t0=t0))
        watch = run_watch(ctx, rig)
        timeline = moments(ctx.plan)
        position = 0
        while True:
            while position < len(timeline) and t0 + timeline[position][0] <= time.time():
                self._moment(timeline[position][1], timeline[position][2].index, watch)
                position += 1
            self._record_due(watch)
            if position >= len(timeline) and not any(w.due_at for w in self.windows.values()):
                return Ending(RunStatus.COMPLETED, f"the session reached --max-duration "
                                                   f"({describe_duration(self.settings.max_duration_s)})")
            # Judging a window and merging a live one take a second or more on a busy 2-core host:
            # the operator's commands (and the reverts that fell due) are served between them too.
            self._serve_desk(0.0)
            try:
                watch.tick()
            except StopRun as stop:
                self._halt(stop, watch)
            self._follow_live()
            until_moment = t0 + timeline[position][0] - time.time() if position < len(timeline) else POLL_S
            self._serve_desk(min(POLL_S, max(until_moment, 0.0)))

    def _serve_desk(self, wait_s: float) -> None:
        """Reverts that fell due, then every command waiting (the first awaited up to ``wait_s``)."""
        self.actions.revert_due()
        self._publish()
        taken = self.desk.take(wait_s)
        while taken is not None:
            self._answer(*taken)
            self.actions.revert_due()
            taken = self.desk.take(0.0)

    # -- the plan's windows ----------------------------------------------------

    def _moment(self, kind: int, index: int, watch: RunWatch) -> None:
        if kind == STEP_START:
            self.ctx.step = index
            self.windows[index] = _Window(users=self.actions.wanted.users, toxics=self.actions.registry.toxics())
        elif kind == WINDOW_START:
            self.rig.vantage.window_start()
        elif kind == WINDOW_END:
            window = self.windows[index]
            window.users, window.toxics = self.actions.wanted.users, self.actions.registry.toxics()
            window.view = self.rig.vantage.window_end()
        elif kind == FLUSH:
            self.windows[index].due_at = time.time() + RECORD_TIMEOUT_S

    def _record_due(self, watch: RunWatch) -> None:
        """Each flushed window once every load process's line is in (or its time is up): judged, journaled."""
        for index, window in list(self.windows.items()):
            if window.due_at is None:
                continue
            measured = self.rig.driver.wait_record(index, 0.0)
            complete = measured is not None and measured.sources >= (measured.expected_sources or 1)
            if not complete and time.time() < window.due_at:
                continue
            step = self.ctx.plan.steps[index - 1].model_copy(update={"users": window.users,
                                                                    "toxics": window.toxics})
            record = judge_step(self.ctx, step, measured, window.view, self.t0, watch)
            if window.changes:
                mixed = "changed during this window, so its numbers mix before and after: " + "; ".join(window.changes)
                record = record.model_copy(update={"flags": [*record.flags, mixed]})
            del self.windows[index]
            self.ctx.events.emit(StepRecorded(record=record))
            self._verdict_changes(record)
            self.records[index] = record

    def _verdict_changes(self, record: StepRecord) -> None:
        """A tier that fails in this window and did not in the one before, or the other way round.

        Only the fail line is marked: pass and inconclusive trade places all the
        time on a busy host, and each window's verdicts are in its step anyway.
        """
        before = self.records.get(record.index - 1)
        for tier, verdict in record.slo.items():
            previous = before.slo.get(tier) if before else None
            if (verdict == Verdict.FAIL) == (previous == Verdict.FAIL):
                continue
            reasons = record.reasons.get(tier, [])
            words = "fails its SLO" if verdict == Verdict.FAIL else f"no longer fails its SLO ({verdict.value})"
            self.ctx.events.emit(VerdictChanged(
                window=record.index, tier=tier, verdict=verdict.value,
                before=previous.value if previous else None, reasons=reasons,
                marker=f"window {record.index}: {tier} {words}"))

    def _follow_live(self) -> None:
        if self.keeper.windows_seen == self._windows_judged or self.keeper.latest is None:
            return
        self._windows_judged = self.keeper.windows_seen
        for change in self.slo_states.observe(self.keeper.latest.results):
            slo = self.ctx.experiment.slos[change.tier]
            self.ctx.events.emit(SloStateChanged(tier=change.tier, state=change.after, before=change.before,
                                                 value=change.value, marker=change.sentence(slo)))

    def _changed(self, text: str) -> None:
        """A change (in words) flags the window it falls in: its numbers mix before and after."""
        if self.ctx.step is not None and self.ctx.step in self.windows:
            self.windows[self.ctx.step].changes.append(time.strftime("%H:%M:%S ") + text)

    def _halt(self, stop: StopRun, watch: RunWatch) -> None:
        """A halt condition held: every fault off at once, said; the conditions watched afresh."""
        fired = stop.fired.model_copy(update={"step": self.ctx.step})
        with self.ctx.guard.shielded():
            text = self.actions.halt(fired)
        self.ctx.events.note(text)
        watch.stops = StopTracker(self.ctx.experiment.stop_when)

    # -- the desk --------------------------------------------------------------

    def _answer(self, command: Command, future: Future[Answer]) -> None:
        try:
            answer = self.actions.handle(command)
        except Refused as exc:
            future.set_exception(exc)
        except BaseException as exc:
            # The session is ending (a signal, Toxiproxy lost): the caller hears so, the session goes on ending.
            future.set_exception(Refused(503, f"the session is ending: {exc}"))
            raise
        else:
            future.set_result(answer)
        finally:
            self._publish()

    # -- the board -------------------------------------------------------------

    def _publish(self) -> None:
        """The board's state anew, when an event changed it (every change of ours is an event)."""
        if not self.keeper.changed and not self.ending:
            return
        self.keeper.changed = False
        faults = [FaultView.of(fault) for fault in self.actions.registry.faults()]
        wanted = self.actions.wanted
        links = {link: {"up": not any(f.link == link and f.type == "down" for f in faults),
                        "faults": [f.id for f in faults if f.link == link]} for link in LINKS}
        script = self.script
        self.board.publish(SessionState(
            run_id=self.keeper.run_id, folder=self.keeper.folder, started_at=self.keeper.started_at,
            now=time.time(), ending=self.ending, control_url=self.settings.control.url,
            revert_after_s=self.settings.revert_after_s, window_s=self.settings.window_s,
            users=wanted.users, spawn_rate=wanted.spawn_rate, users_running=self.keeper.users_running,
            links=links, faults=faults, tiers=self.keeper.tiers(dict(self.slo_states.states)),
            halt_conditions=self.halts,
            script=ScriptState(name=script.name, position=script.position, total=len(script.steps),
                               current=step.describe() if (step := script.current()) else None,
                               upcoming=up.describe() if (up := script.upcoming()) else None,
                               finished=script.finished) if script else None,
            timeline=list(self.keeper.timeline)))
