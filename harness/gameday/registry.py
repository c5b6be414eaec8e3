"""The faults on now: each with an id, its toxic, where it came from and when it reverts by itself (pure).

A fault is one toxic (or a link down) on one link, identified as the
catalogue does (link, type, stream): a second fault of the same identity is
refused, so there is never any doubt which fault a toxic belongs to. Every
fault carries a revert deadline from the moment it is added; an update keeps
it unless a new revert time is given (a fault cannot be kept alive by being
nudged). Ids count up (``f1``, ``f2``, …) and are never reused in a session,
so the journal's mention of a fault is unambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

from harness.gameday.refused import Refused
from toxics.fault import fault_identity
from toxics.schedule import ToxicState

Origin = Literal["operator", "script"]


@dataclass(frozen=True)
class ActiveFault:
    id: str
    toxic: ToxicState
    settings: dict[str, Any]  # the catalogue model's fields as validated (latency_ms, …)
    added_at: float
    revert_at: float
    origin: Origin = "operator"

    @property
    def identity(self) -> tuple[str, str, str]:
        return fault_identity(str(self.toxic.link), self.toxic.type, self.toxic.stream)

    def describe(self) -> str:
        return self.toxic.describe()


class FaultRegistry:
    def __init__(self) -> None:
        self._faults: dict[str, ActiveFault] = {}
        self._counter = 0

    def faults(self) -> list[ActiveFault]:
        return list(self._faults.values())

    def toxics(self) -> list[ToxicState]:
        """What Toxiproxy must carry now, in the order the faults were added."""
        return [fault.toxic for fault in self._faults.values()]

    def get(self, fault_id: str) -> ActiveFault:
        fault = self._faults.get(fault_id)
        if fault is None:
            known = ", ".join(self._faults) or "none"
            raise Refused(404, f"no fault {fault_id!r} is on (on now: {known})")
        return fault

    def find(self, identity: tuple[str, str, str]) -> ActiveFault | None:
        return next((fault for fault in self._faults.values() if fault.identity == identity), None)

    def add(self, toxic: ToxicState, settings: dict[str, Any], now: float, revert_after_s: float,
            origin: Origin = "operator") -> ActiveFault:
        identity = fault_identity(str(toxic.link), toxic.type, toxic.stream)
        existing = self.find(identity)
        if existing is not None:
            raise Refused(409, f"{existing.describe()} is already on as {existing.id}: update it "
                               f"(PATCH /api/faults/{existing.id}, harness fault update) or remove it first")
        self._counter += 1
        fault = ActiveFault(id=f"f{self._counter}", toxic=toxic, settings=dict(settings), added_at=now,
                            revert_at=now + revert_after_s, origin=origin)
        self._faults[fault.id] = fault
        return fault

    def update(self, fault_id: str, toxic: ToxicState, settings: dict[str, Any], now: float,
               revert_after_s: float | None, origin: Origin | None = None) -> tuple[ActiveFault, ActiveFault]:
        """(before, after); the identity stays (link, type and stream make the fault)."""
        before = self.get(fault_id)
        if fault_identity(str(toxic.link), toxic.type, toxic.stream) != before.identity:
            raise Refused(422, f"{fault_id} is {before.describe()}: link, type and stream cannot change; "
                               "remove it and add another")
        revert_at = before.revert_at if revert_after_s is None else now + revert_after_s
        after = replace(before, toxic=toxic, settings=dict(settings), revert_at=revert_at,
                        origin=origin or before.origin)
        self._faults[fault_id] = after
        return before, after

    def restore(self, fault: ActiveFault) -> None:
        """Put a fault back exactly as it was (a change Toxiproxy refused is undone)."""
        self._faults[fault.id] = fault

    def remove(self, fault_id: str) -> ActiveFault:
        fault = self.get(fault_id)
        del self._faults[fault_id]
        return fault

    def clear(self) -> list[ActiveFault]:
        removed = self.faults()
        self._faults.clear()
        return removed

    def due(self, now: float) -> list[ActiveFault]:
        """Faults whose revert deadline has come, earliest first."""
        return sorted((fault for fault in self._faults.values() if fault.revert_at <= now),
                      key=lambda fault: fault.revert_at)

    def next_deadline(self) -> float | None:
        return min((fault.revert_at for fault in self._faults.values()), default=None)
