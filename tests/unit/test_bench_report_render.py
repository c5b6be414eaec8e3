"""harness.bench.report_render and synthetic_run: the report's benchmark is registered and its run is a real journal."""

from __future__ import annotations

import json
from pathlib import Path

from harness.bench import cli, report_render
from harness.bench.synthetic_run import write_synthetic_run
from harness.results import RunStatus, summarize_journal


def test_the_measurement_runs_with_make_bench() -> None:
    assert report_render in cli.MEASUREMENTS
    assert "report_render_s" in cli.NAMES


def test_its_row_gives_wall_and_cpu_time_against_the_goal() -> None:
    row = report_render.rows({"s": 2.4, "cpu_s": 2.2, "html_only_s": 1.6, "html_kb": 619, "goal": "< 5"})
    assert row == [("report of a 25-step run", "2.4 s, CPU 2.2 s (html alone 1.6 s, 619 KB)", "< 5 s")]


def test_the_synthetic_run_reads_back_as_a_run_with_live_windows(tmp_path: Path) -> None:
    folder = write_synthetic_run(tmp_path / "run", steps=3, step_s=20, settle_s=5)
    summary = summarize_journal(folder / "journal.jsonl")
    assert summary.status == RunStatus.COMPLETED
    assert [s.index for s in summary.steps] == [1, 2, 3]
    assert summary.steps[2].links["clickhouse"].requested_latency_ms == 50.0
    events = [json.loads(line) for line in (folder / "journal.jsonl").read_text().splitlines()]
    live = [e for e in events if e["event"] == "live"]
    # One window per LIVE_PERIOD_S of each step's span (settle, window and flush).
    assert len(live) >= 3 * 20 // 5
    assert set(live[0]["tiers"]) == {"redis", "materialize", "clickhouse", "websocket", "http"}
    assert "control" in live[0]["tiers"]["clickhouse"] and "hdr" not in json.dumps(live)
