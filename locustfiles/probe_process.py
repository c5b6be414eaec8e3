"""One datastore probe as its own process: ``python -m locustfiles.probe_process TIER``.

Reads the same load plan as Locust (FLOWFORGE_LOAD_PLAN), runs the tier's
probe (faulted and control paths) and a hiccup meter, and records into its own StepRecorder, whose per-step lines the engine
merges with Locust's (HDR histograms add up exactly). One process per tier:
probes sharing one interpreter wait for each other's GIL, which shows as
milliseconds in a sub-millisecond tail.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from harness.contract import load_from_env
from locustfiles.hiccup import HiccupMeter
from locustfiles.hooks import auth_header_lines
from locustfiles.loadplan import PlanClock
from locustfiles.probes import probes_for
from locustfiles.recorder import StepRecorder
from locustfiles.viewer_probe import ViewerProbe


def main() -> int:
    load = load_from_env()
    if load is None:
        print("FLOWFORGE_LOAD_PLAN is not set: the probe process runs under the harness", file=sys.stderr)
        return 2
    _raise_priority()
    tier = sys.argv[1] if len(sys.argv) > 1 else ""
    probes = [probe for probe in probes_for(load.targets, load.probes) if probe.tier == tier]
    if not probes:
        print(f"no probe for tier {tier!r} in this load plan", file=sys.stderr)
        return 2
    for probe in probes:
        if isinstance(probe, ViewerProbe):
            probe.headers = auth_header_lines(load.hooks)  # the auth hook's, as Locust's viewers send them
    clock = PlanClock(load.clock_path)
    recorder = StepRecorder(load.plan, clock, load.probe_records_path(tier))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threads = [
        threading.Thread(target=probe.run, args=(recorder.on_request, stop), name=f"probe-{probe.tier}", daemon=True)
        for probe in probes
    ]
    hiccups = HiccupMeter(recorder.on_hiccup)
    hiccups.start()
    for thread in threads:
        thread.start()
    load.probe_ready_path(tier).touch()
    settings = load.probes[tier]
    _, control = load.targets.addresses(tier)
    paths = "faulted and control paths" if control else "the faulted path only"
    pace = (f"{settings.pool_size} viewers per path, ~{settings.rate_per_s:g} pushes/s each" if tier == "websocket"
            else f"{settings.rate_per_s:g} calls/s per path over {settings.pool_size} connections per path")
    _say(f"{tier} probe started: {pace}, {paths}; recording to {load.probe_records_path(tier).name}")
    while not stop.wait(0.1):
        recorder.tick(0)
    hiccups.stop()
    for thread in threads:
        thread.join(timeout=5)
    _say(f"{tier} probe stopped")
    return 0


def _say(message: str) -> None:
    """One info line in the probe's log (its stdout)."""
    print(f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] INFO {message}", flush=True)


def _raise_priority() -> None:
    """Where allowed (root), run ahead of the stack and the load generator.

    The probes time sub-millisecond calls on a machine the load saturates on
    purpose; without priority their own wake-up delay, not the link, fills the
    tail (seen: Redis p99 2–3 ms at p50 0.3 ms on 2 busy cores).
    """
    try:
        os.nice(-10)
    except PermissionError:
        pass


if __name__ == "__main__":
    sys.exit(main())
