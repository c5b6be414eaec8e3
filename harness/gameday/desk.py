"""The operator's commands, and the queue that hands them from the API's threads to the session's.

The session's thread owns Toxiproxy's applier, the fault registry and the
journal; the API's handlers only validate a request, put the command here
and wait for its answer. So every change happens in one place, in order,
between the session's other duties (windows, reverts, halts), and a signal
reaches the one thread that can revert everything.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from harness.gameday.refused import Refused
from toxics.schedule import ToxicState

# Long enough for Toxiproxy's own recovery (a timed-out call, /reset, a restart) behind one command.
ANSWER_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class AddFault:
    toxic: ToxicState
    settings: dict[str, Any]
    revert_after_s: float | None


@dataclass(frozen=True)
class UpdateFault:
    fault_id: str
    settings: dict[str, Any] | None
    toxicity: float | None
    revert_after_s: float | None


@dataclass(frozen=True)
class RemoveFault:
    fault_id: str


@dataclass(frozen=True)
class LinkUp:
    link: str


@dataclass(frozen=True)
class SetUsers:
    users: int
    spawn_rate: float | None


@dataclass(frozen=True)
class Annotate:
    text: str


@dataclass(frozen=True)
class StopAll:
    pass


@dataclass(frozen=True)
class Next:
    pass


Command = AddFault | UpdateFault | RemoveFault | LinkUp | SetUsers | Annotate | StopAll | Next
Answer = tuple[int, dict[str, Any]]  # HTTP status and JSON body


class Desk:
    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Command, Future[Answer]]] = queue.Queue()
        self._lock = threading.Lock()
        self._closed: str | None = None

    def call(self, command: Command, timeout_s: float = ANSWER_TIMEOUT_S) -> Answer:
        """From an API thread: the session's answer, or Refused (4xx, or 503 when it is ending)."""
        future: Future[Answer] = Future()
        with self._lock:
            if self._closed is not None:
                raise Refused(503, self._closed)
            self._queue.put((command, future))
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            raise Refused(503, f"the session did not answer within {timeout_s:g} s") from None

    def take(self, timeout_s: float) -> tuple[Command, Future[Answer]] | None:
        """From the session's thread: the next command, waiting at most ``timeout_s``."""
        try:
            return self._queue.get(timeout=max(timeout_s, 0.0))
        except queue.Empty:
            return None

    def close(self, why: str) -> None:
        """No more commands: those waiting get ``why`` (503)."""
        with self._lock:
            self._closed = why
        while True:
            try:
                _, future = self._queue.get_nowait()
            except queue.Empty:
                return
            if not future.done():
                future.set_exception(Refused(503, why))
