"""On a terminal: one progress bar per step, with time left, users running and each tier's live percentile.

The bar moves with the step's own clock (its planned length), the users and
percentiles with each live window; percentiles are coloured against their
SLO bound as point values (the verdicts come once per step, with their
intervals). Off a terminal (CI logs) nothing here is used: the console
prints plain lines instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from harness.slo import TierResult, point_holds
from harness.spec import TierSlo


class _StepClock(Progress):
    """A Progress whose current task advances with the wall clock, refreshed in the background."""

    def __init__(self, console: Console) -> None:
        # Set before Progress starts rendering (its constructor already asks for renderables).
        self.current: TaskID | None = None
        self.started = 0.0
        super().__init__(TextColumn("{task.description}"), BarColumn(bar_width=24), TimeRemainingColumn(),
                         TextColumn("{task.fields[users]}"), TextColumn("{task.fields[tiers]}"),
                         console=console, refresh_per_second=2)

    def get_renderables(self) -> Iterable[RenderableType]:
        if self.current is not None:
            task = self._tasks[self.current]
            self.update(self.current, completed=min(task.total or 0.0, time.monotonic() - self.started))
        yield from super().get_renderables()


class StepBars:
    def __init__(self, console: Console) -> None:
        self._progress = _StepClock(console)
        self._running = False

    def start_step(self, label: str, length_s: float, users: int) -> None:
        if not self._running:
            self._progress.start()
            self._running = True
        self._finish_current()
        self._progress.started = time.monotonic()
        self._progress.current = self._progress.add_task(label, total=length_s, users=f"{users} users",
                                                         tiers="")

    def live(self, results: dict[str, TierResult], slos: dict[str, TierSlo], users_running: int | None) -> None:
        current = self._progress.current
        if current is None:
            return
        fields = {"tiers": live_text(results, slos)}
        if users_running is not None:
            fields["users"] = f"{users_running} users"
        self._progress.update(current, **fields)

    def stop(self) -> None:
        if self._running:
            self._finish_current()
            self._progress.stop()
            self._running = False

    def _finish_current(self) -> None:
        current = self._progress.current
        if current is not None:
            task = self._progress._tasks[current]
            self._progress.update(current, completed=task.total)
            self._progress.current = None


def live_text(results: dict[str, TierResult], slos: dict[str, TierSlo]) -> str:
    """``redis p99 0.4 ms`` per tier, green within its bound, red past it (rich markup)."""
    parts = []
    for tier, slo in slos.items():
        result = results.get(tier)
        percentile = max(slo.bounds(), default=95.0)
        value = result.percentile_ms(percentile) if result is not None and result.count else None
        if value is None:
            parts.append(f"[dim]{tier} –[/]")
            continue
        colour = "green" if point_holds(slo, result) else "red"
        parts.append(f"[{colour}]{tier} p{percentile:g} {value:.3g} ms[/]")
    return " · ".join(parts)
