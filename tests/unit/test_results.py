"""harness.results: summary.json, steps.csv and junit.xml, all rebuilt from a hand-made journal."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from harness.contract import Series, StepLine, TierSeries
from harness.histogram import encode, new_histogram, record_ms
from harness.incidents import Incident
from harness.journal import Journal
from harness.plan import Plan, build_plan
from harness.record import StepRecord, build_record
from harness.results import CSV_COLUMNS, RunStatus, RunVerdict, summarize_journal, write_results
from harness.slo import TierResult, Verdict
from harness.spec import Experiment, TierSlo
from harness.stop_conditions import StopCondition
from harness.stop_tracker import StopTracker

SLOS = {"redis": TierSlo(p99_ms=1), "clickhouse": TierSlo(p95_ms=500)}
SLO_TEXT = {tier: slo.describe() for tier, slo in SLOS.items()}  # {"redis": "p99 < 1 ms", ...}


def _hdr(samples_ms: list[float]) -> str:
    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return encode(histogram)


def _plan() -> Plan:
    experiment = Experiment.model_validate({
        "name": "ch-latency",
        "ramp": {"users": [5, 10, 25], "step_s": 60, "settle_s": 10},
        "faults": [{"link": "clickhouse", "type": "latency",
                    "levels": [None, {"latency_ms": 50}, {"latency_ms": 400}]}],
    })
    return build_plan(experiment)


def _records(plan: Plan) -> list[StepRecord]:
    """Step 1 passes, step 2 breaks redis, step 3 breaks clickhouse and has no redis samples."""
    lines: list[dict[str, Any]] = [
        {"tiers": {"redis": {"hdr": _hdr([0.3] * 1000), "errors": 0},
                   "clickhouse": {"hdr": _hdr([40.0] * 200), "errors": 0}}},
        {"tiers": {"redis": {"hdr": _hdr([0.3] * 980 + [1.5] * 20), "errors": 2, "error_kinds": {"probe": 2}},
                   "clickhouse": {"hdr": _hdr([90.0] * 200), "errors": 0}}},
        {"tiers": {"clickhouse": {"hdr": _hdr([450.0] * 100 + [900.0] * 100), "errors": 0}}},
    ]
    records = []
    for step, line in zip(plan.steps, lines, strict=False):
        tiers = {tier: TierSeries(faulted=Series(**data)) for tier, data in line["tiers"].items()}
        measured = StepLine(index=step.index, window=(1000 + step.window_start_s, 1000 + step.end_s),
                            users=step.users, generator_cpu_percent=30.0, tiers=tiers)
        records.append(build_record(step, measured, SLOS))
    return records


def _run_folder(tmp_path: Path, steps: int = 3, end: dict[str, Any] | None = None) -> Path:
    folder = tmp_path / "run"
    plan = _plan()
    journal = Journal(folder / "journal.jsonl")
    journal.append("run-start", experiment="ch-latency", run_id="20240101T000000Z-ch-latency", backend="local",
                   planned_steps=len(plan.steps), slos=SLO_TEXT, plan=plan)
    journal.append("stack-up", backend="local", notes=["Materialize is PostgreSQL here"],
                   versions={"toxiproxy": "2.12.0"})
    journal.append("clock", t0=1000.0)
    for record in _records(plan)[:steps]:
        journal.append("toxics", step=record.index, changes=[], active=[])
        journal.append("step", record=record)
    if end is not None:
        journal.append("run-end", **end)
    return folder


def test_summary_json_has_what_a_user_reads(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, end={"status": "completed", "reason": None})
    summary = write_results(folder)
    data = json.loads((folder / "summary.json").read_text())

    assert data["experiment"] == "ch-latency"
    assert data["run_id"] == "20240101T000000Z-ch-latency"
    assert data["status"] == "completed"
    assert data["reason"] is None
    assert data["backend"] == "local"
    assert data["verdict"] == "fail"
    assert data["notes"] == ["Materialize is PostgreSQL here"]
    assert data["versions"] == {"toxiproxy": "2.12.0"}
    assert data["slos"] == {"redis": "p99 < 1 ms", "clickhouse": "p95 < 500 ms"}
    assert data["planned_steps"] == 3
    assert isinstance(data["started_at"], float) and data["ended_at"] >= data["started_at"]

    steps = data["steps"]
    assert [(s["index"], s["users"]) for s in steps] == [(1, 5), (2, 10), (3, 25)]
    assert [[(t["link"], t["type"], t["attributes"]) for t in s["toxics"]] for s in steps] == [
        [],
        [("clickhouse", "latency", {"latency": 50, "jitter": 0})],
        [("clickhouse", "latency", {"latency": 400, "jitter": 0})],
    ]
    redis = steps[1]["tiers"]["redis"]
    assert (redis["count"], redis["errors"], redis["p50_ms"], redis["p99_ms"]) == (1000, 2, 0.3, 1.5)
    assert redis["p95_ms"] == 0.3
    clickhouse = steps[2]["tiers"]["clickhouse"]
    assert clickhouse["count"] == 200
    assert clickhouse["p50_ms"] == pytest.approx(450, rel=1e-3)
    assert clickhouse["p95_ms"] == pytest.approx(900, rel=1e-3)
    assert clickhouse["p99_ms"] == pytest.approx(900, rel=1e-3)
    assert [s["slo"] for s in steps] == [
        {"redis": "pass", "clickhouse": "pass"},
        {"redis": "fail", "clickhouse": "pass"},
        {"redis": "no-data", "clickhouse": "fail"},
    ]
    assert steps[1]["reasons"] == {"redis": ["p99 1.5 ms (95 % CI 1.5–1.5) vs bound 1 ms"]}
    # No control path and no store view here, no toxic on the link: the store side is blamed.
    assert steps[1]["cause"] == {"redis": "load"}
    assert steps[1]["tiers"]["redis"]["ci_ms"] == [1.5, 1.5]
    assert steps[1]["error_kinds"] == {"redis": {"probe": 2}}
    assert all("histograms" not in s for s in steps)  # they stay in the journal
    assert summary.verdict == Verdict.FAIL


def test_steps_csv_one_row_per_step_and_tier(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, end={"status": "completed", "reason": None})
    write_results(folder)
    with open(folder / "steps.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["step"], r["tier"], r["verdict"]) for r in rows] == [
        ("1", "clickhouse", "pass"), ("1", "redis", "pass"),
        ("2", "clickhouse", "pass"), ("2", "redis", "fail"),
        ("3", "clickhouse", "fail"), ("3", "redis", "no-data"),
    ]
    step2_redis = rows[3]
    assert step2_redis["users"] == "10"
    assert step2_redis["toxics"] == "clickhouse latency 50 ms downstream"
    assert (step2_redis["count"], step2_redis["errors"], step2_redis["error_ratio"]) == ("1000", "2", "0.002")
    assert (step2_redis["p50_ms"], step2_redis["p99_ms"]) == ("0.3", "1.5")
    assert step2_redis["slo"] == "p99 < 1 ms"
    assert rows[0]["toxics"] == "none"
    no_data = rows[5]
    assert (no_data["count"], no_data["errors"], no_data["p99_ms"]) == ("0", "0", "")


def test_junit_one_case_per_step_and_slo(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, end={"status": "completed", "reason": None})
    write_results(folder)
    root = ET.parse(folder / "junit.xml").getroot()
    assert root.tag == "testsuites"
    [suite] = root
    assert suite.get("name") == "flowforge.ch-latency"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("6", "2", "1")
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert len(cases) == 6
    assert set(cases) == {
        ("ch-latency.step01", "redis: p99 < 1 ms at 5 users"),
        ("ch-latency.step01", "clickhouse: p95 < 500 ms at 5 users"),
        ("ch-latency.step02", "redis: p99 < 1 ms at 10 users"),
        ("ch-latency.step02", "clickhouse: p95 < 500 ms at 10 users"),
        ("ch-latency.step03", "redis: p99 < 1 ms at 25 users"),
        ("ch-latency.step03", "clickhouse: p95 < 500 ms at 25 users"),
    }
    failed = cases[("ch-latency.step02", "redis: p99 < 1 ms at 10 users")]
    assert failed.find("failure").get("message") == "p99 1.5 ms (95 % CI 1.5–1.5) vs bound 1 ms (cause: load)"
    clickhouse_failed = cases[("ch-latency.step03", "clickhouse: p95 < 500 ms at 25 users")]
    assert clickhouse_failed.find("failure").get("message").startswith("p95 ")
    skipped = cases[("ch-latency.step03", "redis: p99 < 1 ms at 25 users")]
    assert skipped.find("skipped") is not None and skipped.find("failure") is None
    passed = cases[("ch-latency.step01", "redis: p99 < 1 ms at 5 users")]
    assert list(passed) == []


def test_journal_without_run_end_is_interrupted(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, steps=1, end=None)
    summary = write_results(folder)
    assert summary.status == RunStatus.INTERRUPTED
    data = json.loads((folder / "summary.json").read_text())
    assert data["status"] == "interrupted"
    assert data["reason"] == "the run ended without closing its journal (killed?)"
    assert data["ended_at"] is None
    assert data["planned_steps"] == 3
    assert [s["index"] for s in data["steps"]] == [1]
    # One step of three passed: the run is incomplete, never "pass".
    assert data["verdict"] == "incomplete"
    assert data["verdicts_reached"] == "pass"
    assert (folder / "steps.csv").is_file() and (folder / "junit.xml").is_file()


def test_journal_with_torn_last_line_still_summarizes(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, steps=2, end=None)
    with open(folder / "journal.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"event": "step", "record": {"index": 3, "us')
    summary = summarize_journal(folder / "journal.jsonl")
    assert summary.status == RunStatus.INTERRUPTED
    assert [s.index for s in summary.steps] == [1, 2]


@pytest.mark.parametrize(
    ("end", "status", "reason"),
    [
        ({"status": "failed", "reason": "toxiproxy did not answer"}, RunStatus.FAILED, "toxiproxy did not answer"),
        ({"status": "interrupted", "reason": "interrupted by SIGTERM"}, RunStatus.INTERRUPTED,
         "interrupted by SIGTERM"),
        ({"status": "aborted", "reason": "stop condition"}, RunStatus.ABORTED, "stop condition"),
    ],
)
def test_run_end_status_is_kept(tmp_path: Path, end: dict[str, Any], status: RunStatus, reason: str) -> None:
    summary = summarize_journal(_run_folder(tmp_path, steps=2, end=end) / "journal.jsonl")
    assert (summary.status, summary.reason) == (status, reason)


def test_journal_without_run_start_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    Journal(path).append("clock", t0=1.0)
    with pytest.raises(ValueError, match="has no run-start event"):
        summarize_journal(path)


def test_run_with_no_steps(tmp_path: Path) -> None:
    folder = _run_folder(tmp_path, steps=0, end={"status": "failed", "reason": "stack did not start"})
    summary = write_results(folder)
    assert summary.verdict == RunVerdict.INCOMPLETE
    assert summary.verdicts_reached == Verdict.NO_DATA
    assert summary.steps == []
    suite = ET.parse(folder / "junit.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("failures")) == ("0", "0")
    assert (folder / "steps.csv").read_text().splitlines() == [",".join(CSV_COLUMNS)]


def _stopped_run(tmp_path: Path) -> Path:
    """Two steps, then stop_when.0 held in step 3; Toxiproxy restored in step 2; redis died in step 3."""
    folder = _run_folder(tmp_path, steps=2, end=None)
    start = summarize_journal(folder / "journal.jsonl").started_at or 0.0
    journal = Journal(folder / "journal.jsonl")
    journal.append("incident", incident=Incident(
        kind="toxiproxy", service="toxiproxy", began_at=start + 70, ended_at=start + 81.5, step=2,
        what="Toxiproxy GET http://127.0.0.1:1/proxies timed out after 5 s (ReadTimeout)",
        actions=["POST /reset failed: timed out", "restart Toxiproxy: done",
                 "put back: add ff-clickhouse-latency-downstream"]))
    journal.append("incident", incident=Incident(
        kind="service-died", service="redis", began_at=start + 130, ended_at=None, step=3,
        what="redis died (killed by SIGKILL)", actions=["the run goes on without it (on_store_crash: continue)"]))
    stop = StopTracker([StopCondition(tier="clickhouse", p95_ms_above=3000, for_s=10)])
    stop.observe((start + 140, start + 145), {"clickhouse": TierResult(count=9, errors=0, p95_ms=3200)})
    fired = stop.observe((start + 145, start + 150), {"clickhouse": TierResult(count=9, errors=0, p95_ms=4100)})
    assert fired is not None
    journal.append("stopped", stop=fired.model_copy(update={"step": 3}))
    journal.append("run-end", status="aborted", reason=f"stopped early: {fired.sentence()}")
    return folder


def test_a_stopped_run_says_what_stopped_it_and_what_went_wrong(tmp_path: Path) -> None:
    folder = _stopped_run(tmp_path)
    summary = write_results(folder)
    assert summary.status == RunStatus.ABORTED and summary.verdict == RunVerdict.INCOMPLETE
    data = json.loads((folder / "summary.json").read_text())
    stopped = data["stopped_by"]
    assert (stopped["condition"], stopped["description"], stopped["step"]) == \
        ("stop_when.0", "clickhouse p95 above 3000 ms for 10 s", 3)
    assert stopped["at"] - stopped["since"] == stopped["held_s"] == 10.0
    assert [value["value"] for value in stopped["values"]] == [3200, 4100]
    assert stopped["shown_values"] == ["3200 ms", "4100 ms"]
    assert [(i["kind"], i["service"], i["step"]) for i in data["incidents"]] == \
        [("toxiproxy", "toxiproxy", 2), ("service-died", "redis", 3)]
    assert data["incidents"][1]["ended_at"] is None
