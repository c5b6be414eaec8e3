"""A stop condition ends a real run early: the materialize link goes down, its error ratio passes the bound.

Step 1 has no fault; step 2 takes the materialize link down (its proxy
disabled), so every faulted materialize probe call fails. The condition
``{tier: materialize, error_ratio_above: 0.5, for_s: 3}`` must fire within
its time (plus one live snapshot), revert the fault at once, end the run
``aborted`` with exit 1, say so in the journal, summary.json and report.md,
and leave nothing of the run behind.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.contract import LIVE_PERIOD_S
from tests.integration.conftest import require_local_stack_programs
from tests.integration.shortrun import (
    assert_nothing_left,
    events,
    run_folder,
    run_harness,
    short_spec,
    summary_of,
)

pytestmark = pytest.mark.integration

FOR_S = 3.0
SPEC = short_spec("materialize-down-stops", "the materialize link down in step 2; a stop condition ends the run",
                  rest=f"""\
faults:
  - link: materialize
    type: down
    levels: [null, true, true]
stop_when:
  - {{tier: clickhouse, p95_ms_above: 60000, for_s: 1}}
  - {{tier: materialize, error_ratio_above: 0.5, for_s: {FOR_S:g}}}
""")
# The breach is seen on live snapshots (at most LIVE_PERIOD_S each) polled four times a second.
SLACK_S = LIVE_PERIOD_S + 1.5


def test_a_stop_condition_aborts_the_run_and_reverts_every_fault(tmp_path: Path) -> None:
    require_local_stack_programs()
    spec = tmp_path / "materialize-down-stops.yaml"
    spec.write_text(SPEC)
    results = tmp_path / "results"
    done = run_harness(spec, results, "--backend", "local", "--linger", "0")
    assert done.returncode == 1, done.stderr[-3000:]
    folder = run_folder(results)

    journal = events(folder)
    kinds = [e["event"] for e in journal]
    down = next(e for e in journal if e["event"] == "toxics" and e["step"] == 2)
    assert down["active"][0]["type"] == "down"
    stopped = next(e for e in journal if e["event"] == "stopped")
    stop = stopped["stop"]
    assert (stop["condition"], stop["step"]) == ("stop_when.1", 2)
    assert stop["description"] == f"materialize error ratio above 50% for {FOR_S:g} s"
    # The breach began with the fault and fired once it had held for_s, within a snapshot of that.
    assert down["at"] - 1.0 <= stop["since"] <= down["at"] + SLACK_S
    assert FOR_S <= stop["held_s"] <= FOR_S + SLACK_S
    assert stop["at"] - down["at"] <= FOR_S + SLACK_S
    assert stopped["at"] - down["at"] <= FOR_S + 2 * SLACK_S
    assert all(value["value"] > 0.5 for value in stop["values"])
    # Every fault reverted at once: the clearing comes right after the stop, before the load is stopped.
    assert kinds.index("toxics-cleared") == kinds.index("stopped") + 1
    cleared = journal[kinds.index("toxics-cleared")]
    assert cleared["at"] - stopped["at"] < 5
    assert not any(e["event"] == "toxics" and e["step"] == 3 for e in journal), "step 3 never began"
    end = next(e for e in journal if e["event"] == "run-end")
    assert end["status"] == "aborted" and "stop_when.1" in end["reason"]

    summary = summary_of(folder)
    assert summary["status"] == "aborted" and summary["verdict"] == "incomplete"
    assert summary["stopped_by"]["condition"] == "stop_when.1"
    assert summary["stopped_by"]["shown_values"]
    assert [s["index"] for s in summary["steps"]] == [1]
    report = (folder / "report.md").read_text()
    assert "> **Stopped by `stop_when.1`:** materialize error ratio above 50% for 3 s: passed from " in report
    assert "Every fault was reverted at once." in report
    assert "status aborted" in report

    assert_nothing_left(folder)
    api = next(e for e in journal if e["event"] == "stack-up")["endpoints"]["toxiproxy_api"]
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{api}/proxies", timeout=2)
