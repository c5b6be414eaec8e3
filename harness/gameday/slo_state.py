"""Each tier's SLO state while a game day runs, from the live windows (pure).

A live window is a few seconds: its point percentiles against the SLO's
bounds (``harness.slo.point_holds``) say whether the tier is holding right
now, not a verdict (those come per measurement window, with intervals). A
state changes only once the new state has been seen in ``confirm`` windows
in a row, so one noisy window (a sub-millisecond Redis bound on a busy
2-core host) does not put a pair of marks on the timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from harness.slo import TierResult, point_holds
from harness.spec import TierSlo

State = Literal["holding", "breached", "no-data"]


@dataclass(frozen=True)
class StateChange:
    tier: str
    before: State | None
    after: State
    value: str  # the numbers the new state rests on, in words

    def sentence(self, slo: TierSlo) -> str:
        if self.after == "breached":
            return f"{self.tier} breaks its SLO ({slo.describe()}): {self.value}"
        if self.after == "holding":
            return f"{self.tier} holds its SLO again ({slo.describe()}): {self.value}"
        return f"{self.tier}: no samples in the live window"


def state_of(slo: TierSlo, result: TierResult | None) -> State:
    holds = point_holds(slo, result)
    return "no-data" if holds is None else ("holding" if holds else "breached")


def value_of(slo: TierSlo, result: TierResult | None) -> str:
    if result is None or result.attempts == 0:
        return "no samples"
    parts = [f"p{p:g} {'–' if result.percentile_ms(p) is None else f'{result.percentile_ms(p):g} ms'}"
             for p in slo.bounds()]
    if slo.error_ratio is not None or result.errors:
        parts.append(f"errors {result.error_ratio:.1%}")
    return ", ".join(parts)


class SloStates:
    def __init__(self, slos: dict[str, TierSlo], confirm: int = 2) -> None:
        self.slos = slos
        self.confirm = confirm
        self.states: dict[str, State] = {}
        self._pending: dict[str, tuple[State, int]] = {}

    def observe(self, results: dict[str, TierResult]) -> list[StateChange]:
        """One live window's faulted-path results; the changes it confirms.

        The first state a tier is seen in is taken at once, and said only if
        it is a breach (a session that starts out holding has nothing to mark).
        """
        changes = []
        for tier, slo in self.slos.items():
            seen = state_of(slo, results.get(tier))
            current = self.states.get(tier)
            if current is None:
                self.states[tier] = seen
                if seen == "breached":
                    changes.append(StateChange(tier, None, seen, value_of(slo, results.get(tier))))
                continue
            if seen == current:
                self._pending.pop(tier, None)
                continue
            pending, count = self._pending.get(tier, (seen, 0))
            count = count + 1 if pending == seen else 1
            if count >= self.confirm:
                self._pending.pop(tier, None)
                self.states[tier] = seen
                changes.append(StateChange(tier, current, seen, value_of(slo, results.get(tier))))
            else:
                self._pending[tier] = (seen, count)
        return changes
