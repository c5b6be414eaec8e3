"""Where a recorder's lines go: a file beside the run (one process), or on to someone else (Locust's master).

``FileOutput`` is what a single load process has always done: each step's
line appended to ``steps.jsonl`` and fsynced before the next step measures,
the live snapshot replacing ``steps.live.json`` atomically. Workers send
theirs to the master instead (``locustfiles.distributed``), which merges and
writes through a ``FileOutput`` of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from harness.contract import StepLine, WorkerShare, live_path, share_of


class LineOutput(Protocol):
    def step(self, line: StepLine) -> None: ...

    def live(self, line: StepLine) -> None: ...


class FileOutput:
    def __init__(self, path: Path) -> None:
        self.path = path

    def step(self, line: StepLine) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line.model_dump_json() + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def live(self, line: StepLine) -> None:
        path = live_path(self.path)
        partial = path.with_suffix(".tmp")
        partial.write_text(line.model_dump_json())
        partial.replace(path)


class NoOutput:
    """A plain ``locust -f`` run with nowhere named to write."""

    def step(self, line: StepLine) -> None:
        pass

    def live(self, line: StepLine) -> None:
        pass


class WithShare:
    """A single Locust process's lines, each naming the process's own part (as a master names its workers')."""

    def __init__(self, output: LineOutput, host: str, worker: Callable[[], int | None] = lambda: None) -> None:
        self.output = output
        self.host = host
        self.worker = worker

    def step(self, line: StepLine) -> None:
        share: WorkerShare = share_of(line, self.worker(), self.host)
        self.output.step(line.model_copy(update={"workers": [share]}))

    def live(self, line: StepLine) -> None:
        self.output.live(line)
