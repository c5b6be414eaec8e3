"""WebSocket sequence bookkeeping: what a viewer reports for each pattern of arrivals."""

from __future__ import annotations

import pytest

from locustfiles.sequence import DUPLICATE, LOST, OUT_OF_ORDER, SequenceTracker


def _replay(arrivals: list[int], horizon: int = 3, close: bool = False) -> list[str]:
    tracker = SequenceTracker(horizon=horizon)
    events = [event for seq in arrivals for event in tracker.observe(seq)]
    return events + (tracker.close() if close else [])


@pytest.mark.parametrize(
    ("arrivals", "close", "expected"),
    [
        ([1, 2, 3, 4], False, []),
        ([1, 3, 2], False, [OUT_OF_ORDER]),  # late, not lost and then duplicated
        ([1, 2, 2], False, [DUPLICATE]),
        ([1, 3], False, []),  # a gap is not a loss yet
        ([1, 3, 4, 5], False, [LOST]),  # seq 2 is 3 messages behind: lost
        ([1, 3], True, [LOST]),  # the connection ended without it
        ([1, 5, 6, 7, 8], False, [LOST, LOST, LOST]),
        ([1, 3, 4, 5, 2], False, [LOST, DUPLICATE]),  # too late to count as merely out of order
    ],
)
def test_sequence_defects(arrivals: list[int], close: bool, expected: list[str]) -> None:
    assert _replay(arrivals, close=close) == expected
