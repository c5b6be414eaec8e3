"""A game day on the terminal: what was done and seen, one line each, as an observer of the event stream.

Not the run's step console: a game day has no ramp to show progress
through. Its markers (faults, reverts, halts, SLO changes, notes) are the
story; each measurement window gets one line of verdicts.
"""

from __future__ import annotations

import time

from rich.console import Console

from harness.events import Event, Note, ResultsWritten, RunEnded, RunStarted, StackUp, StepRecorded
from harness.gameday.events import GameDayEvent, HaltFired, SloStateChanged

MARK = {"pass": "[green]pass[/]", "fail": "[bold red]FAIL[/]", "inconclusive": "[yellow]?[/]", "no-data": "–"}


class GameDayConsole:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.console.print(f"[bold]{event.experiment}[/]: starting the {event.backend} stack → {event.folder}")
        elif isinstance(event, StackUp):
            self.console.print(f"  stack up: {event.backend} backend, Toxiproxy at {event.endpoints.toxiproxy_api}")
            for note in event.notes:
                self.line(note)
        elif isinstance(event, Note):
            self.line(event.message)
        elif isinstance(event, HaltFired) or (isinstance(event, SloStateChanged) and event.state == "breached"):
            self.line(f"[bold red]{event.marker}[/]", event.at)
        elif isinstance(event, GameDayEvent):
            self.line(event.marker, event.at)
        elif isinstance(event, StepRecorded):
            record = event.record
            verdicts = " · ".join(f"{tier} {MARK.get(v.value, v.value)}" for tier, v in record.slo.items())
            self.line(f"[dim]window {record.index} ({record.users} users):[/] {verdicts}")
        elif isinstance(event, RunEnded):
            self.line(f"session {event.status}" + (f": {event.reason}" if event.reason else ""))
        elif isinstance(event, ResultsWritten):
            self.line(f"{len(event.summary.steps)} windows recorded")

    def line(self, text: str, at: float | None = None) -> None:
        stamp = time.strftime("%H:%M:%S", time.localtime(at or time.time()))
        self.console.print(f"  [dim]{stamp}[/] {text}")
