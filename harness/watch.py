"""What the runner checks between the moments of its timeline, a few times a second.

Each poll: the load processes are alive, the live snapshots are read (and
each new one is checked against the stop conditions). Each second: the
checks that ask the stack something (Toxiproxy answering with its proxies
and our toxics on; every service still running). Whatever must end the run
raises: LoadError (load died), StopRun (a stop condition, or a service that
died under ``on_store_crash: stop``).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Protocol

from harness.events import EventStream, IncidentRecorded, LiveWindow
from harness.incidents import Incident
from harness.stop_conditions import StoreCrash
from harness.stop_tracker import StopFired, StopRun, StopTracker

POLL_S = 0.25
CHECK_PERIOD_S = 1.0


class Driver(Protocol):
    def check_alive(self) -> None: ...


class Services(Protocol):
    def dead_services(self) -> dict[str, int | None]: ...


class RunWatch:
    def __init__(self, driver: Driver, live: Callable[[], LiveWindow | None], stops: StopTracker,
                 every_second: list[Callable[[], None]]) -> None:
        self.driver = driver
        self.live = live
        self.stops = stops
        self.every_second = every_second
        self._next_check = 0.0

    def tick(self) -> None:
        self.driver.check_alive()
        window = self.live()
        if window is not None and window.measured is not None and window.measured.window is not None:
            fired = self.stops.observe(window.measured.window, window.results)
            if fired is not None:
                raise StopRun(fired)
        now = time.monotonic()
        if now >= self._next_check:
            for check in self.every_second:
                check()
            self._next_check = time.monotonic() + CHECK_PERIOD_S

    def wait_until(self, deadline: float) -> None:
        while True:
            remaining = deadline - time.time()
            if remaining <= 0:
                return
            self.tick()
            time.sleep(min(max(deadline - time.time(), 0), POLL_S))


class ServiceWatch:
    """Each service of the stack that dies is recorded once, with its time; it stops the run if the spec says so.

    Toxiproxy is not watched here: the applier restores it (``toxics.applier``).
    """

    def __init__(self, stack: Services, on_crash: StoreCrash, events: EventStream,
                 incidents: list[Incident], step: Callable[[], int | None]) -> None:
        self.stack = stack
        self.on_crash = on_crash
        self.events = events
        self.incidents = incidents
        self.step = step
        self._seen: set[str] = set()

    def __call__(self) -> None:
        for name, code in self.stack.dead_services().items():
            if name in self._seen or name == "toxiproxy":
                continue
            self._seen.add(name)
            now = time.time()
            what = f"{name} died ({exit_words(code)})"
            then = "the run stops (on_store_crash: stop)" if self.on_crash == "stop" else \
                "the run goes on without it (on_store_crash: continue)"
            incident = Incident(kind="service-died", service=name, began_at=now, ended_at=None, what=what,
                                actions=[then], step=self.step(), noticed_at=now)
            self.incidents.append(incident)
            self.events.emit(IncidentRecorded(incident=incident))
            self.events.note(f"{what}; {then}")
            if self.on_crash == "stop":
                raise StopRun(StopFired(kind="store-crash", condition="on_store_crash", description=what,
                                        since=now, at=now, held_s=0.0, step=self.step()))


def exit_words(code: int | None) -> str:
    if code is None:
        return "exit code unknown"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
