"""A hiccup meter, as jHiccup does it: sleep 1 ms, record how late the wake-up came.

A round trip to a store waits on several processes' wake-ups (probe, proxy,
store), so the host's scheduling noise shows in a sub-millisecond tail. This
thread measures that noise where the probe runs, beside its samples, so a
verdict can say when the host, not the link, fills the tail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class HiccupMeter(threading.Thread):
    def __init__(self, record: Callable[[float], None], interval_ms: float = 1.0) -> None:
        super().__init__(name="hiccup-meter", daemon=True)
        self._record = record
        self._interval_s = interval_ms / 1000.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        interval = self._interval_s
        while not self._stop_event.is_set():
            before = time.perf_counter()
            time.sleep(interval)
            late_ms = (time.perf_counter() - before - interval) * 1000.0
            self._record(max(0.0, late_ms))

    def stop(self) -> None:
        self._stop_event.set()
