"""harness.events: one stream, observers in order, the journal as one of them; the console as another."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from harness.console import ConsoleProgress
from harness.events import ClockStarted, Event, EventStream, LiveWindow, Note, RunEnded, ToxicsApplied
from harness.journal import Journal, JournalWriter, read_journal
from harness.slo import TierResult
from harness.spec import TierSlo
from toxics.links import Link
from toxics.schedule import ToxicState


def test_observers_hear_every_event_in_order() -> None:
    heard: list[tuple[str, str]] = []
    stream = EventStream(lambda e: heard.append(("first", e.kind)), lambda e: heard.append(("second", e.kind)))
    stream.emit(ClockStarted(t0=1.0))
    stream.note("hello")
    assert heard == [("first", "clock"), ("second", "clock"), ("first", "note"), ("second", "note")]


def test_the_journal_keeps_journaled_events_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    stream = EventStream(JournalWriter(Journal(path)))
    latency = ToxicState(link=Link.REDIS, type="latency", stream="downstream", toxicity=1.0,
                         attributes={"latency": 5, "jitter": 0}, level="latency 5 ms")
    stream.emit(ToxicsApplied(step=2, total_steps=3, users=10, toxics=[latency], changes=[], active=[latency]))
    stream.emit(LiveWindow(results={"redis": TierResult(count=1, errors=0)}))
    stream.emit(Note(message="not for the journal"))
    stream.emit(RunEnded(status="completed", reason=None))
    events = read_journal(path)
    assert [e["event"] for e in events] == ["toxics", "live", "run-end"]
    assert events[0]["step"] == 2 and events[0]["active"][0]["attributes"] == {"latency": 5, "jitter": 0}
    assert events[2]["status"] == "completed"


def _hdr(samples_ms: list[float]) -> str:
    from harness.histogram import encode, new_histogram, record_ms

    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return encode(histogram)


def test_a_live_window_is_journaled_compact_both_paths_percentiles_no_histograms(tmp_path: Path) -> None:
    from harness.contract import Series, StepLine, TierSeries
    from harness.record import result_of

    faulted = Series(hdr=_hdr([100.0] * 90 + [300.0] * 10), errors=2)
    control = Series(hdr=_hdr([5.0] * 100))
    measured = StepLine(index=0, window=(1000.0, 1005.0), users=25,
                        tiers={"clickhouse": TierSeries(faulted=faulted, control=control)})
    window = LiveWindow(results={"clickhouse": result_of(faulted)}, measured=measured, fresh=measured)
    path = tmp_path / "journal.jsonl"
    EventStream(JournalWriter(Journal(path))).emit(window)
    (event,) = read_journal(path)
    assert event["event"] == "live"
    assert (event["window"], event["users"]) == ([1000.0, 1005.0], 25)
    clickhouse = event["tiers"]["clickhouse"]
    assert (clickhouse["count"], clickhouse["errors"]) == (100, 2)
    assert clickhouse["p50_ms"] == 100.0 and clickhouse["p99_ms"] == 300.0
    # HDR keeps 3 significant digits: 5 ms is stored as 5.003.
    assert clickhouse["control"] == {"count": 100, "errors": 0, "p50_ms": 5.003, "p95_ms": 5.003, "p99_ms": 5.003}
    line = path.read_text()
    assert "hdr" not in line and "fresh" not in line and "measured" not in line
    # ~300 of these in a 25-step run of 60 s steps: five tiers stay near 1 KB a window.
    assert len(line) < 400


def test_the_console_is_an_observer() -> None:
    out = io.StringIO()
    console = ConsoleProgress(Console(file=out, width=200, highlight=False, color_system=None))
    console.use_slos({"redis": TierSlo(p99_ms=1)})
    events: list[Event] = [
        ToxicsApplied(step=1, total_steps=2, users=5, toxics=[], changes=[], active=[]),
        LiveWindow(results={"redis": TierResult(count=10, errors=0, p99_ms=0.4)}),
    ]
    for event in events:
        console(event)
    text = out.getvalue()
    assert "step 1/2: 5 users, no toxics" in text
    assert "redis p99 0.4 ms" in text


def test_on_a_terminal_each_step_gets_a_bar_with_users_and_live_percentiles() -> None:
    from harness.events import RunStarted
    from harness.plan import build_plan
    from harness.progress import live_text
    from harness.spec import Experiment

    out = io.StringIO()
    console = ConsoleProgress(Console(file=out, width=200, force_terminal=True, color_system=None))
    console.use_slos({"redis": TierSlo(p99_ms=1), "clickhouse": TierSlo(p95_ms=500)})
    plan = build_plan(Experiment.model_validate({"name": "bars", "ramp": {"users": [5, 10], "step_s": 4,
                                                                          "settle_s": 1}}))
    console(RunStarted(experiment="bars", run_id="r", backend="local", planned_steps=2, slos={}, plan=plan,
                       probes={}, folder=Path("/tmp/r")))
    console(ToxicsApplied(step=1, total_steps=2, users=5, toxics=[], changes=[], active=[]))
    console(LiveWindow(results={"redis": TierResult(count=100, errors=0, p99_ms=2.5),
                                "clickhouse": TierResult(count=100, errors=0, p95_ms=40.0)}))
    console(RunEnded(status="completed", reason=None))
    text = out.getvalue()
    assert "step 1/2" in text and "5 users" in text
    assert "redis p99 2.5 ms" in text and "clickhouse p95 40 ms" in text
    # Within the bound green, past it red: the colours are the SLO's, as point values.
    assert live_text({"redis": TierResult(count=9, errors=0, p99_ms=2.5)},
                     {"redis": TierSlo(p99_ms=1)}) == "[red]redis p99 2.5 ms[/]"
    assert live_text({}, {"redis": TierSlo(p99_ms=1)}) == "[dim]redis –[/]"
