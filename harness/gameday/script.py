"""``--script EXPERIMENT``: that experiment's faults, one step at a time, each on the operator's "next" (pure).

Step k puts on level k of every fault of the experiment (``toxics_for_step``,
as a run would at ramp step k) and takes off the script's faults that step
does not have. The ramp's user counts are not followed: the operator sets the
users. The experiment's ``stop_when`` become the session's halt conditions,
and its SLOs the session's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.errors import SpecError
from harness.gameday.refused import Refused
from harness.spec import Experiment
from toxics.schedule import ToxicState, toxics_for_step


@dataclass(frozen=True)
class ScriptStep:
    number: int  # 1-based, as people count
    total: int
    toxics: list[ToxicState]
    settings: list[dict[str, Any]]  # each toxic's level as the catalogue validated it (latency_ms, …)

    def describe(self) -> str:
        faults = "; ".join(toxic.describe() for toxic in self.toxics) or "no fault"
        return f"step {self.number} of {self.total}: {faults}"


class Script:
    def __init__(self, experiment: Experiment) -> None:
        if not experiment.faults:
            raise SpecError(f"--script {experiment.name}: the experiment has no faults to step through")
        self.name = experiment.name
        total = min(len(fault.levels) for fault in experiment.faults)
        self.steps = [ScriptStep(k + 1, total, toxics_for_step(experiment.faults, k),
                                 [level.model_dump() for fault in experiment.faults
                                  if (level := fault.levels[k]) is not None])
                      for k in range(total)]
        self.position = 0  # steps done; 0 = none yet

    @property
    def finished(self) -> bool:
        """Past the last step: its "next" took the script's faults off."""
        return self.position > len(self.steps)

    def upcoming(self) -> ScriptStep | None:
        return self.steps[self.position] if self.position < len(self.steps) else None

    def current(self) -> ScriptStep | None:
        return self.steps[self.position - 1] if 0 < self.position <= len(self.steps) else None

    def advance(self) -> ScriptStep | None:
        """The step to put on now; None for the "next" after the last (the script's faults come off)."""
        if self.finished:
            raise Refused(409, f"the script {self.name} is finished (all {len(self.steps)} steps done)")
        self.position += 1
        return self.current()
