"""harness.live.LiveReporter: a LiveWindow once every process has cut; each snapshot fresh exactly once."""

from __future__ import annotations

from types import SimpleNamespace

from harness.contract import Series, StepLine, TierSeries
from harness.events import Event, EventStream, LiveWindow
from harness.histogram import decode, encode, new_histogram, record_ms
from harness.live import LiveReporter


def _snapshot(start: float, end: float, tier: str, samples: int) -> StepLine:
    histogram = new_histogram()
    for _ in range(samples):
        record_ms(histogram, 1.0)
    return StepLine(index=0, window=(start, end), tiers={tier: TierSeries(faulted=Series(hdr=encode(histogram)))})


class FakeDriver:
    """Locust's snapshot first, then the probe's, as the driver reads them (None: not written yet)."""

    def __init__(self) -> None:
        self.lines: dict[str, StepLine | None] = {"steps.jsonl": None, "probe-redis-steps.jsonl": None}

    def live_lines(self) -> dict[str, StepLine | None]:
        return dict(self.lines)


def _fresh_counts(event: LiveWindow) -> dict[str, int]:
    assert event.fresh is not None
    return {tier: decode(series.faulted.hdr).get_total_count() for tier, series in event.fresh.tiers.items()}


def test_each_snapshot_is_fresh_once_and_only_when_every_process_reached_its_end() -> None:
    heard: list[Event] = []
    driver = FakeDriver()
    live = LiveReporter(SimpleNamespace(events=EventStream(heard.append)), driver)  # type: ignore[arg-type]
    live()
    driver.lines["steps.jsonl"] = _snapshot(0, 2, "http", 10)
    live()
    assert heard == [], "nothing until every process has cut its first snapshot"

    driver.lines["probe-redis-steps.jsonl"] = _snapshot(0, 2, "redis", 3)
    live()
    live()  # polled again before anything changed
    # Locust cuts at 6 s first; the probe's snapshot of 2–6 s comes a poll later, then its 6–10 s one
    # before Locust's: each counts once, and only up to the cut both have reached.
    driver.lines["steps.jsonl"] = _snapshot(2, 6, "http", 20)
    live()
    driver.lines["probe-redis-steps.jsonl"] = _snapshot(2, 6, "redis", 4)
    live()
    driver.lines["probe-redis-steps.jsonl"] = _snapshot(6, 10, "redis", 5)
    live()
    driver.lines["steps.jsonl"] = _snapshot(6, 10, "http", 30)
    live()

    windows = [event for event in heard if isinstance(event, LiveWindow)]
    assert [w.fresh_until for w in windows] == [2, 6, 10]
    assert [_fresh_counts(w) for w in windows] == [{"http": 10, "redis": 3}, {"http": 20, "redis": 4},
                                                   {"http": 30, "redis": 5}]
    # The live numbers are of the latest snapshots.
    assert windows[2].results["redis"].count == 5 and windows[2].results["http"].count == 30
    assert windows[2].measured is not None and windows[2].measured.window == (6.0, 10.0)
