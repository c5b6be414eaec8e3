"""Host hiccups on its own: ``python -m locustfiles.bench.hiccup_idle SECONDS``.

Runs the harness's HiccupMeter (a thread sleeping 1 ms at a time and
recording how late it woke) for SECONDS and prints one JSON line holding the
HDR histogram of those latenesses (microseconds, harness.histogram's
encoding). In its own process, so nothing else in it competes for the GIL.
"""

from __future__ import annotations

import json
import sys
import threading
import time

from harness.histogram import encode, new_histogram, record_ms
from locustfiles.hiccup import HiccupMeter


def measure(seconds: float) -> str:
    histogram = new_histogram()
    lock = threading.Lock()

    def record(lateness_ms: float) -> None:
        with lock:
            record_ms(histogram, lateness_ms)

    meter = HiccupMeter(record)
    meter.start()
    try:
        time.sleep(seconds)
    finally:
        meter.stop()
        meter.join(timeout=2.0)
    with lock:
        return encode(histogram)


if __name__ == "__main__":
    print(json.dumps({"seconds": float(sys.argv[1]), "hdr": measure(float(sys.argv[1]))}))
