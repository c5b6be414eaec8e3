"""The users an operator wants now, handed from the engine to Locust's shape through a file.

The engine never imports Locust (it patches the process with gevent), so the
game day's shape reads a small JSON file beside the load plan, written
atomically each time the operator changes the users; the shape looks at it
about once a second (``LoadTestShape.tick``). Files, as the rest of the
measurement contract: easy to inspect, nothing left listening.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

USERS_FILE = "users.json"
MAX_USERS = 100_000  # harness.spec.MAX_USERS: a typo's bound, not a capacity


class UsersWanted(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    users: int = Field(ge=0, le=MAX_USERS)
    spawn_rate: float = Field(gt=0, le=MAX_USERS)


def users_path(load_folder: Path) -> Path:
    return load_folder / USERS_FILE


def write_users(load_folder: Path, wanted: UsersWanted) -> None:
    """Atomically: the shape never reads half a file."""
    path = users_path(load_folder)
    partial = path.with_suffix(".tmp")
    partial.write_text(wanted.model_dump_json())
    os.replace(partial, path)


class UsersReader:
    """The shape's side: the file's content, re-read only when it changed (None: no file yet)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._wanted: UsersWanted | None = None

    def wanted(self) -> UsersWanted | None:
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._stamp:
                self._wanted = UsersWanted.model_validate_json(self.path.read_text(encoding="utf-8"))
                self._stamp = stamp
        except (OSError, ValueError):
            pass  # not written yet, or mid-replace: the last good value stands
        return self._wanted
