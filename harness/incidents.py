"""What went wrong with the stack while a run went on, and the steps it touched (pure).

Two kinds: Toxiproxy not answering or losing its proxies (the harness
restored it: ``/reset``, a restart, proxies and toxics re-created), and a
service of the stack dying (a store killed: it stays dead). Each is an
interval of wall time; every step whose span (settle and window) meets it
carries a flag saying so, since its numbers include the gap.
"""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Literal["toxiproxy", "service-died"]
    service: str
    began_at: float  # Toxiproxy: its last good answer; a service: when it was seen dead
    ended_at: float | None  # restored at; None: never (a dead service stays dead)
    what: str  # one sentence
    actions: list[str] = []  # what the harness did about it, in order
    step: int | None = None  # the step running when it was noticed
    noticed_at: float = Field(default_factory=time.time)

    @property
    def gap_s(self) -> float | None:
        return None if self.ended_at is None else round(self.ended_at - self.began_at, 3)

    def flag(self) -> str:
        if self.kind == "toxiproxy":
            gap = f" for {self.gap_s:.1f} s" if self.gap_s is not None else ""
            return f"Toxiproxy unusable{gap} ({self.what}); restored: {'; '.join(self.actions)}"
        return f"{self.what}: the step's numbers include it"


def overlaps(span: tuple[float, float], incident: Incident) -> bool:
    start, end = span
    ended = incident.ended_at if incident.ended_at is not None else float("inf")
    return incident.began_at <= end and ended >= start


def incident_flags(span: tuple[float, float], incidents: list[Incident]) -> list[str]:
    """A flag per incident that met the step's span (wall time: its start to its window's end)."""
    return [incident.flag() for incident in incidents if overlaps(span, incident)]
