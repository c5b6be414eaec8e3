"""Per-connection bookkeeping of WebSocket ``seq`` numbers: late, repeated, or never seen.

A gap is not a loss yet: the message may still come, out of order. A missing
``seq`` counts as lost once ``horizon`` newer messages have arrived, or when
the connection ends without it.
"""

from __future__ import annotations

LOST, OUT_OF_ORDER, DUPLICATE = "lost", "out-of-order", "duplicate"


class SequenceTracker:
    def __init__(self, horizon: int = 20) -> None:
        self.horizon = horizon
        self.last = 0
        self._missing: set[int] = set()

    def observe(self, seq: int) -> list[str]:
        """The delivery defects this arrival reveals (possibly none)."""
        events = []
        if seq > self.last:
            self._missing.update(range(self.last + 1, seq))
            self.last = seq
        elif seq in self._missing:
            self._missing.discard(seq)
            events.append(OUT_OF_ORDER)
        else:
            events.append(DUPLICATE)
        expired = sorted(m for m in self._missing if m <= self.last - self.horizon)
        self._missing.difference_update(expired)
        return events + [LOST] * len(expired)

    def close(self) -> list[str]:
        """The connection ended: whatever is still missing is lost."""
        lost = [LOST] * len(self._missing)
        self._missing.clear()
        return lost
