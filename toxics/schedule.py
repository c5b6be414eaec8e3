"""The per-step toxic schedule and the changes that move Toxiproxy between steps. Pure, no I/O.

Level k of every fault applies at ramp step k. Moving from one step to the
next is planned as adds and in-place updates first, removes last: a toxic that
changes level keeps its name and is PATCHed, so there is never a toxic-free gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from toxics.catalogue import disables_link
from toxics.errors import FaultPlanError
from toxics.fault import Fault
from toxics.links import Link, Stream, toxic_name


@dataclass(frozen=True)
class ToxicState:
    """One toxic as it should be (or is) on the link's proxy."""

    link: Link
    type: str
    stream: Stream
    toxicity: float
    attributes: dict[str, int] = field(default_factory=dict)
    # The level in words with units (the catalogue model's describe()); derived, so not compared.
    level: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return toxic_name(self.link, self.type, self.stream)

    @property
    def proxy(self) -> str:
        """The proxy carrying this toxic: one proxy per link, named after it."""
        return Link(self.link).value

    @property
    def disables_link(self) -> bool:
        """True for a link down: disable the proxy for this state instead of adding a toxic."""
        return disables_link(self.type)

    def describe(self) -> str:
        """The one description of a toxic, used by plan, console, summary and report alike."""
        return describe_toxic(Link(self.link).value, self.type, self.stream, self.toxicity, self.attributes,
                              self.level)


def describe_toxic(link: str, type: str, stream: str, toxicity: float, attributes: dict[str, int],
                   level: str = "") -> str:
    """``clickhouse latency 200 ms ±10 ms downstream, 50 % of connections``; ``materialize link down (…)``."""
    what = level or f"{type} ({', '.join(f'{k}={v}' for k, v in attributes.items())})"
    if disables_link(type):
        # A disabled proxy has no direction and spares no connection.
        return f"{link} {what}"
    share = "" if toxicity >= 1.0 else f", {toxicity:.0%} of connections"
    return f"{link} {what} {stream}{share}"


class ChangeKind(StrEnum):
    ADD = "add"
    UPDATE = "update"
    REMOVE = "remove"


@dataclass(frozen=True)
class Change:
    """One Toxiproxy call: add or update ``state``, or remove the toxic ``state`` names."""

    kind: ChangeKind
    state: ToxicState

    @property
    def name(self) -> str:
        return self.state.name


def toxics_for_step(faults: Sequence[Fault], step_index: int) -> list[ToxicState]:
    """The toxics that should be active during ramp step ``step_index``.

    Raises FaultPlanError when a fault has no level for that step, or when two
    faults would make the same toxic (same link, type and stream).
    """
    states: dict[tuple[str, str, str], ToxicState] = {}
    for number, fault in enumerate(faults):
        if not 0 <= step_index < len(fault.levels):
            raise FaultPlanError(
                f"faults.{number}: has {len(fault.levels)} levels, no level for step {step_index}"
            )
        level = fault.levels[step_index]
        if level is None:
            continue
        if fault.identity in states:
            raise FaultPlanError(
                f"faults.{number}: a second {fault.type} {fault.stream} fault on link "
                f"{fault.link.value}; merge them into one"
            )
        states[fault.identity] = ToxicState(
            link=fault.link,
            type=fault.type,
            stream=fault.stream,
            toxicity=fault.toxicity,
            attributes=level.attributes(),
            level=level.describe(),
        )
    return list(states.values())


def plan_changes(current: Sequence[ToxicState], desired: Sequence[ToxicState]) -> list[Change]:
    """Changes that turn ``current`` into ``desired``: adds and updates (desired order), then removes.

    A toxic whose name exists on both sides is updated in place when its
    attributes or toxicity differ, and left alone when they do not.
    """
    now = _by_name(current, "current")
    wanted = _by_name(desired, "desired")
    changes: list[Change] = []
    for name, state in wanted.items():
        before = now.get(name)
        if before is None:
            changes.append(Change(ChangeKind.ADD, state))
        elif (before.attributes, before.toxicity) != (state.attributes, state.toxicity):
            changes.append(Change(ChangeKind.UPDATE, state))
    changes.extend(
        Change(ChangeKind.REMOVE, state) for name, state in now.items() if name not in wanted
    )
    return changes


def _by_name(states: Sequence[ToxicState], side: str) -> dict[str, ToxicState]:
    by_name: dict[str, ToxicState] = {}
    for state in states:
        if state.name in by_name:
            raise ValueError(f"{side} toxics name {state.name} twice")
        by_name[state.name] = state
    return by_name
