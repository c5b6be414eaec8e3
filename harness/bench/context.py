"""What every measurement gets: settings, a work folder, a run label, and results to share."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from harness.bench.settings import BenchSettings

T = TypeVar("T")


@dataclass
class BenchContext:
    settings: BenchSettings
    work: Path  # this bench's folder: logs, Locust CSVs, harness run folders
    run_id: str  # label of every process the bench starts (``harness cleanup`` finds leftovers by it)
    _shared: dict[str, Any] = field(default_factory=dict)

    def folder(self, *parts: str) -> Path:
        path = self.work.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def short_folder(self, label: str) -> Iterator[Path]:
        """A fresh folder under the temp dir, moved to ``work/<label>`` afterwards.

        For stacks: PostgreSQL puts its socket in the run folder and refuses a
        path over 107 bytes, which the bench's own nesting can pass.
        """
        scratch = Path(tempfile.mkdtemp(prefix="ffb-"))
        try:
            yield scratch
        finally:
            kept = self.work / label
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(kept, ignore_errors=True)  # an earlier bench's folder of the same name
            shutil.move(scratch, kept)

    def shared(self, key: str, compute: Callable[[], T]) -> T:
        """One expensive run serves several measurements (the viewer ramp, the baseline runs)."""
        if key not in self._shared:
            self._shared[key] = compute()
        return self._shared[key]

    def has(self, key: str) -> bool:
        return key in self._shared
