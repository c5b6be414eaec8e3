"""What an operator (or the session's own safety) does to the stack: faults on and off, reverts, users.

Every change goes the same way: the registry first, then Toxiproxy made to
carry the registry's toxics (the applier: adds and in-place updates, then
removes), then the journal event with its marker. A change Toxiproxy does not
take is undone in the registry and answered 503, so the registry never claims
a fault Toxiproxy does not have. Runs in the session's thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from harness.errors import ToxicsError, toxiproxy_errors
from harness.events import EventStream
from harness.gameday.desk import (
    AddFault,
    Annotate,
    Answer,
    Command,
    LinkUp,
    RemoveFault,
    SetUsers,
    StopAll,
    UpdateFault,
)
from harness.gameday.events import (
    AllStopped,
    Annotated,
    FaultAdded,
    FaultRemoved,
    FaultReverted,
    FaultUpdated,
    FaultView,
    HaltFired,
    ScriptStepped,
    UsersChanged,
)
from harness.gameday.refused import Refused
from harness.gameday.registry import ActiveFault, FaultRegistry
from harness.gameday.requests import describe_duration, toxic_of
from harness.gameday.script import Script
from harness.gameday.users_file import UsersWanted, write_users
from harness.stop_tracker import StopFired
from toxics.applier import ToxicApplier


class Actions:
    def __init__(self, events: EventStream, applier: ToxicApplier, load_folder: Path, revert_after_s: float,
                 script: Script | None, wanted: UsersWanted, changed: Callable[[str], None]) -> None:
        self.events = events
        self.applier = applier
        self.load_folder = load_folder
        self.revert_after_s = revert_after_s
        self.script = script
        self.wanted = wanted
        self.changed = changed  # told of every change in words: the window it falls in is flagged
        self.registry = FaultRegistry()

    # -- faults ----------------------------------------------------------------

    def apply(self) -> None:
        """Toxiproxy made to carry the registry's toxics (the applier restores a failing Toxiproxy itself)."""
        with toxiproxy_errors():
            self.applier.apply(self.registry.toxics())

    def _apply_or_undo(self, undo: list[ActiveFault], added: str | None = None) -> None:
        """For the operator: a change Toxiproxy would not take is undone in the registry and answered 503."""
        try:
            self.apply()
        except ToxicsError as exc:
            if added is not None:
                self.registry.remove(added)
            for fault in undo:
                self.registry.restore(fault)
            raise Refused(503, f"Toxiproxy did not take the change: {exc}") from exc

    def revert_due(self) -> None:
        now = time.time()
        for fault in self.registry.due(now):
            self.registry.remove(fault.id)
            self.apply()
            text = (f"{fault.describe()} reverted automatically after "
                    f"{describe_duration(round(fault.revert_at - fault.added_at, 1))}")
            self.changed(text)
            self.events.emit(FaultReverted(fault=FaultView.of(fault), reason="auto-revert", marker=text))

    def halt(self, fired: StopFired) -> str:
        """A halt condition held: every fault off at once, and said (the caller shields it from signals)."""
        removed = self.registry.clear()
        self.apply()
        text = f"halt: {fired.condition} ({fired.description}) held; every fault reverted ({len(removed)})"
        self.changed(text)
        self.events.emit(HaltFired(stop=fired, removed=[FaultView.of(f) for f in removed], marker=text))
        return text

    def revert_all_at_end(self) -> None:
        removed = self.registry.clear()
        if not removed:
            return
        try:
            self.apply()
        except ToxicsError as exc:
            # The rig's teardown clears every toxic of ours again, with /reset and a restart behind it.
            self.events.note(f"reverting at the end failed ({exc}); the teardown clears Toxiproxy")
            return
        for fault in removed:
            self.events.emit(FaultReverted(fault=FaultView.of(fault), reason="session-end",
                                           marker=f"{fault.describe()} reverted: the session ended"))

    def handle(self, command: Command) -> Answer:
        if isinstance(command, AddFault):
            return self._add(command)
        if isinstance(command, UpdateFault):
            return self._update(command)
        if isinstance(command, RemoveFault):
            fault = self.registry.remove(command.fault_id)
            return self._removed(fault, f"{fault.describe()} removed")
        if isinstance(command, LinkUp):
            fault = self.registry.find((command.link, "down", ""))
            if fault is None:
                raise Refused(409, f"link {command.link} is not down")
            self.registry.remove(fault.id)
            return self._removed(fault, f"{command.link} link up again")
        if isinstance(command, SetUsers):
            return self._users(command)
        if isinstance(command, Annotate):
            event = Annotated(text=command.text, marker=f"note: {command.text}")
            self.events.emit(event)
            return 201, {"annotation": {"at": event.at, "text": command.text}}
        if isinstance(command, StopAll):
            removed = self.registry.clear()
            self._apply_or_undo(removed)
            names = "; ".join(fault.describe() for fault in removed) or "none were on"
            text = f"stop all faults: {len(removed)} removed ({names})"
            self.changed(text)
            views = [FaultView.of(fault) for fault in removed]
            self.events.emit(AllStopped(removed=views, marker=text))
            return 200, {"removed": [view.model_dump(mode="json") for view in views]}
        return self._next()

    def _add(self, command: AddFault) -> Answer:
        revert_after_s = command.revert_after_s or self.revert_after_s
        fault = self.registry.add(command.toxic, command.settings, time.time(), revert_after_s)
        self._apply_or_undo([], added=fault.id)
        text = f"{fault.describe()} added (auto-revert in {describe_duration(revert_after_s)})"
        self.changed(text)
        view = FaultView.of(fault)
        self.events.emit(FaultAdded(fault=view, marker=text))
        return 201, {"fault": view.model_dump(mode="json")}

    def _update(self, command: UpdateFault) -> Answer:
        current = self.registry.get(command.fault_id)
        toxic = current.toxic
        settings = {**current.settings, **(command.settings or {})}
        new_toxic, new_settings = toxic_of(str(toxic.link), toxic.type, None if toxic.disables_link else toxic.stream,
                                           command.toxicity if command.toxicity is not None else
                                           (None if toxic.disables_link else toxic.toxicity), settings)
        before, after = self.registry.update(command.fault_id, new_toxic, new_settings, time.time(),
                                             command.revert_after_s)
        self._apply_or_undo([before])
        revert = f" (auto-revert in {describe_duration(command.revert_after_s)})" if command.revert_after_s else ""
        text = f"{before.describe()} → {after.toxic.level or after.describe()}{revert}"
        self.changed(text)
        view = FaultView.of(after)
        self.events.emit(FaultUpdated(fault=view, before=FaultView.of(before), marker=text))
        return 200, {"fault": view.model_dump(mode="json"), "before": FaultView.of(before).model_dump(mode="json")}

    def _removed(self, fault: ActiveFault, text: str) -> Answer:
        self._apply_or_undo([fault])
        self.changed(text)
        view = FaultView.of(fault)
        self.events.emit(FaultRemoved(fault=view, marker=text))
        return 200, {"fault": view.model_dump(mode="json")}

    def _users(self, command: SetUsers) -> Answer:
        before = self.wanted
        self.wanted = UsersWanted(users=command.users, spawn_rate=command.spawn_rate or before.spawn_rate)
        write_users(self.load_folder, self.wanted)
        text = f"users {before.users} → {self.wanted.users}"
        self.changed(text)
        self.events.emit(UsersChanged(users=self.wanted.users, spawn_rate=self.wanted.spawn_rate,
                                          before=before.users, marker=text))
        return 200, {"users": self.wanted.users, "spawn_rate": self.wanted.spawn_rate}

    def _next(self) -> Answer:
        script = self.script
        if script is None:
            raise Refused(409, "this session has no script (start it with --script EXPERIMENT)")
        step = script.advance()
        wanted = step.toxics if step else []
        names = {toxic.name for toxic in wanted}
        now = time.time()
        undo = self.registry.faults()
        for fault in undo:
            if fault.origin == "script" and fault.toxic.name not in names:
                self.registry.remove(fault.id)
        for toxic, settings in zip(wanted, step.settings if step else [], strict=True):
            existing = self.registry.find((str(toxic.link), toxic.type, "" if toxic.disables_link else toxic.stream))
            if existing is None:
                self.registry.add(toxic, settings, now, self.revert_after_s, origin="script")
            else:
                self.registry.update(existing.id, toxic, settings, now, self.revert_after_s, origin="script")
        try:
            self.apply()
        except ToxicsError as exc:
            self.registry.clear()
            for fault in undo:
                self.registry.restore(fault)
            script.position -= 1
            raise Refused(503, f"Toxiproxy did not take the change: {exc}") from exc
        text = (f"script {script.name}: {step.describe()}" if step else
                f"script {script.name} done: its faults are off")
        self.changed(text)
        self.events.emit(ScriptStepped(script=script.name, step=step.number if step else None,
                                           total=len(script.steps), marker=text))
        return 200, {"step": step.number if step else None, "total": len(script.steps), "description": text}

