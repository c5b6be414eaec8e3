"""harness.report.markdown: what report.md says of a run that stopped early and of what went wrong meanwhile."""

from __future__ import annotations

from pathlib import Path

from harness.report.markdown import render_markdown
from harness.results import write_results
from tests.unit.test_results import _stopped_run


def test_the_report_says_which_condition_fired_when_and_on_what(tmp_path: Path) -> None:
    text = render_markdown(write_results(_stopped_run(tmp_path)))
    assert "**Verdict: INCOMPLETE** · status aborted" in text
    assert "> **Partial run:** 2 of 3 steps completed (aborted: stopped early: stop_when.0" in text
    stop = next(line for line in text.splitlines() if line.startswith("> **Stopped by"))
    assert stop.startswith("> **Stopped by `stop_when.0`:** clickhouse p95 above 3000 ms for 10 s: passed from ")
    assert "(t+140.0 s) until it fired at " in stop and "(t+150.0 s) in step 3, 10 s." in stop
    assert "Values of each live snapshot: 3200 ms, 4100 ms." in stop
    assert stop.endswith("Every fault was reverted at once.")


def test_the_report_lists_incidents_with_their_time_and_what_was_done(tmp_path: Path) -> None:
    text = render_markdown(write_results(_stopped_run(tmp_path)))
    section = text.split("## Incidents", 1)[1].split("\n## ", 1)[0]
    toxiproxy, redis = [line for line in section.splitlines() if line.startswith("- ")]
    assert "(t+70.0 s), step 2: Toxiproxy unusable for 11.5 s (Toxiproxy GET" in toxiproxy
    assert "POST /reset failed: timed out; restart Toxiproxy: done; put back: add ff-clickhouse-latency" in toxiproxy
    assert redis.endswith("(t+130.0 s), step 3: redis died (killed by SIGKILL); "
                          "the run goes on without it (on_store_crash: continue)")


def test_a_store_crash_stop_is_said_as_such(tmp_path: Path) -> None:
    from harness.journal import Journal
    from harness.stop_tracker import StopFired
    from tests.unit.test_results import _run_folder

    folder = _run_folder(tmp_path, steps=1, end=None)
    Journal(folder / "journal.jsonl").append("stopped", stop=StopFired(
        kind="store-crash", condition="on_store_crash", description="clickhouse died (killed by SIGKILL)",
        since=2e9, at=2e9, held_s=0, step=2))
    text = render_markdown(write_results(folder))
    assert "> **Stopped by `on_store_crash: stop`:** clickhouse died (killed by SIGKILL) at " in text
    assert " in step 2. Every fault was reverted at once." in text
