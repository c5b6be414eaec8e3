"""The game day's own journal events: every action, annotation, SLO change, verdict and revert, with its time.

Each has a ``marker``: the sentence the report's timeline (and the page's)
writes at its time. They travel the run's one event stream like the
runner's events, so the journal, the console and the page hear of them at
the same moment.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from harness.events import Event
from harness.gameday.registry import ActiveFault
from harness.stop_tracker import StopFired


class FaultView(BaseModel):
    """A fault as the journal, the API and the page show it."""

    model_config = ConfigDict(frozen=True)

    id: str
    link: str
    type: str
    stream: str
    toxicity: float
    settings: dict[str, object]
    attributes: dict[str, int]  # as Toxiproxy holds them
    description: str
    added_at: float
    revert_at: float
    origin: str

    @classmethod
    def of(cls, fault: ActiveFault) -> FaultView:
        toxic = fault.toxic
        return cls(id=fault.id, link=str(toxic.link), type=toxic.type, stream=toxic.stream, toxicity=toxic.toxicity,
                   settings=fault.settings, attributes=dict(toxic.attributes), description=fault.describe(),
                   added_at=fault.added_at, revert_at=fault.revert_at, origin=fault.origin)


class GameDayEvent(Event):
    marker: str


class SessionOpened(GameDayEvent):
    kind: ClassVar[str] = "gameday-open"
    control_url: str
    users: int
    revert_after_s: float
    script: str | None = None
    halt_conditions: list[str] = []


class FaultAdded(GameDayEvent):
    kind: ClassVar[str] = "fault-added"
    fault: FaultView


class FaultUpdated(GameDayEvent):
    kind: ClassVar[str] = "fault-updated"
    fault: FaultView
    before: FaultView


class FaultRemoved(GameDayEvent):
    """Taken off by the operator (or by the script's next step)."""

    kind: ClassVar[str] = "fault-removed"
    fault: FaultView
    by: Literal["operator", "script"] = "operator"


class FaultReverted(GameDayEvent):
    """Taken off by the session itself: its revert time came, or the session ended."""

    kind: ClassVar[str] = "fault-reverted"
    fault: FaultView
    reason: Literal["auto-revert", "session-end"]


class AllStopped(GameDayEvent):
    """The operator's "stop all faults": every fault off at once."""

    kind: ClassVar[str] = "stop-all"
    removed: list[FaultView]


class HaltFired(GameDayEvent):
    """A halt condition (the script's ``stop_when``) held: every fault reverted; the session goes on."""

    kind: ClassVar[str] = "halt"
    stop: StopFired
    removed: list[FaultView]


class UsersChanged(GameDayEvent):
    kind: ClassVar[str] = "users"
    users: int
    spawn_rate: float
    before: int


class Annotated(GameDayEvent):
    kind: ClassVar[str] = "annotation"
    text: str


class ScriptStepped(GameDayEvent):
    kind: ClassVar[str] = "script-step"
    script: str
    step: int | None  # None: past the last step, the script's faults off
    total: int


class SloStateChanged(GameDayEvent):
    """A tier's live state changed (holding, breached, no-data), confirmed over consecutive live windows."""

    kind: ClassVar[str] = "slo-state"
    tier: str
    state: str
    before: str | None
    value: str


class VerdictChanged(GameDayEvent):
    """A tier fails its SLO in this window and did not in the window before, or the other way round.

    Every window's verdicts are in its step record; this marks where the fail line is crossed.
    """

    kind: ClassVar[str] = "verdict"
    window: int
    tier: str
    verdict: str
    before: str | None
    reasons: list[str] = []
