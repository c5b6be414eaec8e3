"""What the runner tells the outside world while it runs; implementations are passed in."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from harness.plan import Plan, Step
from harness.record import StepRecord
from harness.results import RunSummary
from harness.slo import TierResult
from harness.spec import TierSlo
from toxics.schedule import Change


class RunObserver(Protocol):
    def run_started(self, experiment: str, folder: Path, plan: Plan, backend: str) -> None: ...

    def note(self, message: str) -> None: ...

    def step_started(self, step: Step, total: int, changes: list[Change]) -> None: ...

    def step_finished(self, record: StepRecord, slos: dict[str, TierSlo]) -> None: ...

    def live(self, results: dict[str, TierResult], slos: dict[str, TierSlo]) -> None: ...

    def run_finished(self, summary: RunSummary, folder: Path) -> None: ...


class Observers:
    """Fans every call out to several observers (console, metrics exporter, …)."""

    def __init__(self, *observers: RunObserver) -> None:
        self._observers = observers

    def run_started(self, experiment: str, folder: Path, plan: Plan, backend: str) -> None:
        for observer in self._observers:
            observer.run_started(experiment, folder, plan, backend)

    def note(self, message: str) -> None:
        for observer in self._observers:
            observer.note(message)

    def step_started(self, step: Step, total: int, changes: list[Change]) -> None:
        for observer in self._observers:
            observer.step_started(step, total, changes)

    def step_finished(self, record: StepRecord, slos: dict[str, TierSlo]) -> None:
        for observer in self._observers:
            observer.step_finished(record, slos)

    def live(self, results: dict[str, TierResult], slos: dict[str, TierSlo]) -> None:
        for observer in self._observers:
            observer.live(results, slos)

    def run_finished(self, summary: RunSummary, folder: Path) -> None:
        for observer in self._observers:
            observer.run_finished(summary, folder)
