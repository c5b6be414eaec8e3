"""Ctrl-C, SIGTERM and SIGHUP end a run the same way: once, and never in the middle of cleanup."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Interrupted(BaseException):
    """Raised in the main thread by the first SIGINT or SIGTERM of a run."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name = signal_name


class InterruptGuard:
    def __init__(self) -> None:
        self.received: str | None = None
        self._shielded = False

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        first = self.received is None
        self.received = self.received or name
        if first and not self._shielded:
            raise Interrupted(name)
        # Later signals, or any during cleanup, are noted but do not cut cleanup short.

    @contextmanager
    def shielded(self) -> Iterator[None]:
        """Cleanup runs to its end even if a signal comes in meanwhile."""
        previous, self._shielded = self._shielded, True
        try:
            yield
        finally:
            self._shielded = previous


@contextmanager
def interrupt_guard() -> Iterator[InterruptGuard]:
    guard = InterruptGuard()
    # SIGHUP too: a closed terminal or ssh session must not leave the stack behind.
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.signal(sig, guard._handle) for sig in signals}
    try:
        yield guard
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
