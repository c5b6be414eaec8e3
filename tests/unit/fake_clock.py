"""A wall clock the test moves by hand: the recorder, the merge and the plan clock read time.time()."""

from __future__ import annotations

import time

import pytest

T0 = 1_700_000_000.0


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def install(monkeypatch: pytest.MonkeyPatch, at: float = T0) -> FakeTime:
    """time.time() answers ``at`` (and what the test sets ``.now`` to) until the test ends."""
    fake = FakeTime(at)
    monkeypatch.setattr(time, "time", fake)
    return fake
