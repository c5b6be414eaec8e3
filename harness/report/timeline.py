"""The run over time, read back from its journal: live windows, step spans and markers.

The summary holds what each step measured; the timeline needs what happened
between and within steps: the live windows (journaled in compact form, see
``harness.events.LiveWindow.fields``), each toxic change, a stop, an incident,
and any event that carries a ``marker`` text (a game-day session's
annotations, fault changes, link down/up, reverts). Journals are read as
they are: an event that does not parse is counted and left out, never fatal,
so a journal cut anywhere still gives a timeline.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.events import LivePath, LiveTier
from harness.record import StepRecord
from toxics.schedule import describe_toxic

MarkerKind = Literal["fault", "stop", "incident", "marker"]


class Tick(BaseModel):
    """One live window: wall-time span, users running, per tier both paths."""

    model_config = ConfigDict(frozen=True)

    start: float
    end: float
    users: int | None = None
    tiers: dict[str, LiveTier] = {}


class Marker(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: float
    kind: MarkerKind
    text: str
    until: float | None = None  # an incident's end (None: a moment, or never ended)


class StepSpan(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    users: int
    start: float  # toxics applied
    window_start: float  # measuring from here
    end: float


class Timeline(BaseModel):
    origin: float | None  # wall time of t = 0 on the chart: the plan clock's zero, else the run's start
    ticks: list[Tick] = []
    markers: list[Marker] = []
    spans: list[StepSpan] = []
    unreadable: int = 0  # journal events left out because they did not parse

    def seconds(self, at: float) -> float:
        return at - (self.origin or 0.0)


def read_timeline(events: list[dict[str, Any]], steps: list[StepRecord] | None = None) -> Timeline:
    """The timeline of a journal's events; ``steps`` (the summary's) give spans when the plan is missing."""
    start = next((e for e in events if e.get("event") == "run-start"), {})
    clock = next((e for e in events if e.get("event") == "clock"), None)
    t0 = _number(clock.get("t0")) if clock else None
    origin = t0 if t0 is not None else _number(start.get("at"))
    timeline = Timeline(origin=origin)
    for event in events:
        try:
            _read(event, timeline)
        except (ValidationError, KeyError, TypeError, ValueError, AttributeError):
            timeline.unreadable += 1
    last = max((float(e["at"]) for e in events if isinstance(e.get("at"), int | float)), default=None)
    # A cut run planned more steps than it began: only those that started are drawn.
    timeline.spans = [span for span in _spans(start, t0, steps or []) if last is None or span.start <= last]
    timeline.markers.sort(key=lambda marker: marker.at)
    return timeline


def _read(event: dict[str, Any], timeline: Timeline) -> None:
    kind = event.get("event")
    at = float(event["at"])
    if kind == "live":
        window = event.get("window") or [at, at]
        tiers = {tier: LiveTier.model_validate(data) for tier, data in (event.get("tiers") or {}).items()}
        timeline.ticks.append(Tick(start=float(window[0]), end=float(window[1]), users=event.get("users"),
                                   tiers=tiers))
    elif kind == "toxics":
        changes = [_change_text(change) for change in event.get("changes") or []]
        if changes:
            timeline.markers.append(Marker(at=at, kind="fault",
                                           text=f"step {event.get('step', '?')}: {'; '.join(changes)}"))
    elif kind == "toxics-cleared" and event.get("removed"):
        timeline.markers.append(Marker(at=at, kind="fault", text=f"faults removed: {', '.join(event['removed'])}"))
    elif kind == "stopped":
        stop = event["stop"]
        timeline.markers.append(Marker(at=float(stop.get("at", at)), kind="stop",
                                       text=f"stopped by {stop.get('condition', '?')}: {stop.get('description', '')}"))
    elif kind == "incident":
        incident = event["incident"]
        timeline.markers.append(Marker(at=float(incident["began_at"]), kind="incident", text=incident["what"],
                                       until=_number(incident.get("ended_at"))))
    if isinstance(event.get("marker"), str) and event["marker"].strip():
        # Any event may carry its own words for the timeline (game-day annotations, link down/up, reverts).
        timeline.markers.append(Marker(at=at, kind="marker", text=event["marker"].strip()))


def _change_text(change: dict[str, Any]) -> str:
    toxic = change["toxic"]
    sign = {"add": "+", "update": "~", "remove": "−"}.get(change.get("kind", ""), "")
    described = describe_toxic(str(toxic["link"]), toxic["type"], str(toxic.get("stream", "")),
                               float(toxic.get("toxicity", 1.0)), dict(toxic.get("attributes") or {}),
                               toxic.get("level", ""))
    return f"{sign}{described}" if change.get("kind") != "update" else f"{described} (updated)"


def _spans(start: dict[str, Any], t0: float | None, steps: list[StepRecord]) -> list[StepSpan]:
    """Each planned step on the wall clock; without a plan (or a clock), the recorded windows."""
    planned = (start.get("plan") or {}).get("steps") or []
    if t0 is not None and planned:
        try:
            return [StepSpan(index=int(s["index"]), users=int(s["users"]), start=t0 + float(s["start_s"]),
                             window_start=t0 + float(s["window_start_s"]), end=t0 + float(s["end_s"]))
                    for s in planned]
        except (KeyError, TypeError, ValueError):
            pass
    return [StepSpan(index=s.index, users=s.users, start=s.window[0], window_start=s.window[0], end=s.window[1])
            for s in steps if s.window is not None]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def ticks_from_steps(steps: list[StepRecord]) -> list[Tick]:
    """One tick per recorded window: the timeline of a journal without live windows."""
    ticks = []
    for step in steps:
        if step.window is None:
            continue
        tiers = {}
        for tier, result in step.tiers.items():
            control = result.control
            tiers[tier] = LiveTier(count=result.count, errors=result.errors, p50_ms=result.p50_ms,
                                   p95_ms=result.p95_ms, p99_ms=result.p99_ms,
                                   control=LivePath(count=control.count, errors=control.errors,
                                                    p50_ms=control.p50_ms, p95_ms=control.p95_ms,
                                                    p99_ms=control.p99_ms) if control else None)
        ticks.append(Tick(start=step.window[0], end=step.window[1], users=step.users, tiers=tiers))
    return ticks
