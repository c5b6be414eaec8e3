"""The live snapshots of the load processes, merged as they come: LiveWindow events.

The console's live line, the metrics exporter's counts and the stop
conditions all read the run's last few seconds from these.
"""

from __future__ import annotations

from typing import Protocol

from harness.contract import StepLine, merge_lines
from harness.events import EventStream, LiveWindow
from harness.record import result_of


class _Context(Protocol):
    events: EventStream


class _Driver(Protocol):
    def live_lines(self) -> dict[str, StepLine | None]: ...


class LiveReporter:
    """Emits a LiveWindow each time every load process has cut its next snapshot.

    The processes cut their snapshots at the same plan times
    (``harness.contract.live_cut_after``), each replacing its file; polled
    every quarter second, none is missed. ``fresh`` carries each snapshot
    once, and only once every process has reached its end (``fresh_until``):
    the counts so far are then exact up to that plan time, which the metrics
    exporter stamps them with.
    """

    def __init__(self, ctx: _Context, driver: _Driver) -> None:
        self.ctx = ctx
        self.driver = driver
        self.until: float | None = None
        self._seen: dict[str, tuple[float, float] | None] = {}
        self._pending: list[StepLine] = []

    def __call__(self) -> LiveWindow | None:
        lines = self.driver.live_lines()
        for source, line in lines.items():
            if line is not None and line.window is not None and line.window != self._seen.get(source):
                self._seen[source] = line.window
                self._pending.append(line)
        ends = [window[1] for window in self._seen.values() if window is not None]
        if not lines or len(ends) < len(lines):
            return None
        until = min(ends)
        if self.until is not None and until <= self.until:
            return None
        self.until = until
        ready = [line for line in self._pending if _ends_by(line, until)]
        self._pending = [line for line in self._pending if not _ends_by(line, until)]
        measured = merge_lines([line for line in lines.values() if line is not None])
        results = {tier: result for tier, series in measured.tiers.items()
                   if (result := result_of(series.faulted)) is not None}
        window = LiveWindow(results=results, measured=measured, fresh=merge_lines(ready) if ready else None,
                            fresh_until=until)
        self.ctx.events.emit(window)
        return window


def _ends_by(line: StepLine, at: float) -> bool:
    return line.window is not None and line.window[1] <= at
