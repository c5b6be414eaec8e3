"""The run's journal: one JSON object per line, appended and fsynced.

Every completed step is on disk before the next one measures, so a run killed
at any moment leaves a journal a report can be built from. The reader skips
a torn last line rather than failing on it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from harness.errors import SpecError
from harness.secrets import mask_secrets


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, event: str, **fields: Any) -> None:
        # Masked as a whole: a URL with a password in any field (stack-up, a reason, a flag) is never written.
        line = mask_secrets(json.dumps({"event": event, "at": time.time(), **fields}, default=_plain))
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())


class JournalWriter:
    """The journal as an observer of the run's event stream: every journaled event, as it happens."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def __call__(self, event: Any) -> None:
        if event.journaled:
            self.journal.append(event.kind, **event.fields())


def read_journal(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SpecError(f"cannot read the journal: {exc.strerror}", source=str(path)) from exc
    events = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            if number == len(lines):
                break  # torn by a kill mid-write: everything before it stands
            raise SpecError(f"line {number} is not JSON", source=str(path)) from None
        if isinstance(event, dict) and "event" in event:
            events.append(event)
    return events


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to the journal")
