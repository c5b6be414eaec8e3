"""harness.history and harness.run_folder: past runs newest first; broken folders listed, never fatal."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.history import UNREADABLE, history, history_lines
from harness.results import write_results
from harness.run_folder import read_run
from tests.unit.synthetic_runs import BASELINE_STEPS, FAIL, PASS, step, write_run

DAY = 86_400.0
T0 = 1_789_948_800.0  # 2026-09-21 00:00:00 UTC


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Five run folders of two experiments, one partial, two broken, plus things that are not runs."""
    root = tmp_path / "results"
    write_run(root / "20260921T000000Z-ch-latency", BASELINE_STEPS, started_at=T0)
    write_run(root / "20260922T000000Z-ch-latency", [step(1, 5, {"redis": FAIL})], status=None, planned=3,
              started_at=T0 + DAY)  # killed after one step
    write_run(root / "20260923T000000Z-redis-flap", [step(1, 5, {"redis": PASS})], experiment="redis-flap",
              started_at=T0 + 2 * DAY)
    torn = root / "20260924T000000Z-ch-latency"
    torn.mkdir()
    (torn / "journal.jsonl").write_text('{"event": "run-start", "at": 1}\nnot json\n{"event": "step"}\n')
    early = root / "20260925T000000Z-redis-flap"
    early.mkdir()
    (early / "experiment.yaml").write_text("name: redis-flap\n")  # killed before its first event
    (root / "bench").mkdir()  # not a run folder: no run file in it
    (root / "bench" / "x.json").write_text("{}")
    (root / "notes.txt").write_text("a file")
    os.symlink("20260923T000000Z-redis-flap", root / "latest")
    return root


def test_history_newest_first_with_broken_folders_listed(results: Path) -> None:
    entries = history(results)
    assert [(e.run_id, e.experiment, e.status) for e in entries] == [
        ("20260925T000000Z-redis-flap", "redis-flap", UNREADABLE),
        ("20260924T000000Z-ch-latency", "ch-latency", UNREADABLE),
        ("20260923T000000Z-redis-flap", "redis-flap", "completed"),
        ("20260922T000000Z-ch-latency", "ch-latency", "interrupted"),
        ("20260921T000000Z-ch-latency", "ch-latency", "completed"),
    ]
    early, torn, flap, killed, first = entries
    assert early.problem == "not a run folder: no journal.jsonl and no summary.json"
    assert torn.problem == "line 2 is not JSON"
    assert (killed.steps, killed.planned_steps, killed.partial, killed.verdict) == (1, 3, True, "incomplete")
    assert killed.score is not None and killed.score.value == 0.0
    assert (first.verdict, first.partial) == ("inconclusive", False)
    assert first.score is not None and (first.score.value, first.score.inconclusive) == (100.0, 1)
    assert flap.started_at == T0 + 2 * DAY


def test_history_of_one_experiment(results: Path) -> None:
    assert [e.run_id for e in history(results, "redis-flap")] == ["20260925T000000Z-redis-flap",
                                                                 "20260923T000000Z-redis-flap"]
    assert history(results, "nothing-like-it") == []


def test_history_lines(results: Path) -> None:
    lines = history_lines(history(results))
    assert lines[0].split() == ["started", "(UTC)", "experiment", "status", "steps", "verdict", "score",
                                "inconclusive", "run"]
    assert lines[1].split() == ["2026-09-25", "00:00:00", "redis-flap", "unreadable", "–", "–", "–", "–",
                                "20260925T000000Z-redis-flap"]
    assert lines[2] == "    not a run folder: no journal.jsonl and no summary.json"
    assert lines[5].split() == ["2026-09-23", "00:00:00", "redis-flap", "completed", "1/1", "pass", "100/100", "0",
                                "20260923T000000Z-redis-flap"]
    assert lines[6].split() == ["2026-09-22", "00:00:00", "ch-latency", "interrupted", "1/3", "partial",
                                "incomplete", "0/100", "0", "20260922T000000Z-ch-latency"]
    assert lines[7].split()[4:7] == ["3/3", "inconclusive", "100/100"]
    assert len(lines) == 1 + 5 + 2  # header, five runs, two reasons


def test_history_of_a_missing_folder_is_empty_and_of_a_file_bad_input(tmp_path: Path) -> None:
    assert history(tmp_path / "nope") == []
    (tmp_path / "file").write_text("")
    with pytest.raises(SpecError, match="not a folder"):
        history(tmp_path / "file")


# --- run_folder ---------------------------------------------------------------------------------


def test_read_run_prefers_the_journal(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run", BASELINE_STEPS)
    write_results(folder)
    data = json.loads((folder / "summary.json").read_text())
    (folder / "summary.json").write_text(json.dumps(data | {"experiment": "stale"}))
    assert read_run(folder).experiment == "ch-latency"
    assert read_run(folder, summary_first=True).experiment == "stale"  # as new as the journal


def test_read_run_from_an_old_summary_without_journal_derives_its_score(tmp_path: Path) -> None:
    folder = write_run(tmp_path / "run", BASELINE_STEPS)
    write_results(folder)
    data = json.loads((folder / "summary.json").read_text())
    del data["score"]  # written before runs had one
    (folder / "summary.json").write_text(json.dumps(data))
    (folder / "journal.jsonl").unlink()
    run = read_run(folder)
    assert run.score is not None and run.score.value == 100.0


def test_a_step_event_that_does_not_read_is_left_out_and_said(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "journal.jsonl").write_text(
        '{"event": "run-start", "at": 1, "experiment": "x", "run_id": "r", "backend": "local"}\n'
        '{"event": "step", "at": 2, "record": {"index": "one"}}\n')
    run = read_run(folder)
    assert run.steps == []
    assert [note for note in run.notes if note.startswith("journal: event 2 (step) left out: index: ")]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "not a run folder (no such folder)"),
        (lambda p: p.write_text("x"), "not a run folder (a file)"),
        (lambda p: p.mkdir(), "not a run folder: no journal.jsonl and no summary.json"),
        (lambda p: (p.mkdir(), (p / "journal.jsonl").write_text('{"event": "clock", "at": 1}\n')),
         "has no run-start event"),
        (lambda p: (p.mkdir(), (p / "journal.jsonl").write_text('{"event": "run-start", "at": 1}\n')),
         "unreadable journal: the run-start event has no experiment, run_id, backend"),
        (lambda p: (p.mkdir(), (p / "summary.json").write_text("{")), "unreadable summary:"),
        (lambda p: (p.mkdir(), (p / "summary.json").write_text('{"experiment": 1}')), "unreadable summary: "),
    ],
)
def test_read_run_names_the_folder_and_the_problem(tmp_path: Path, make: Callable[[Path], object],
                                                   message: str) -> None:
    folder = tmp_path / "run"
    make(folder)
    with pytest.raises(SpecError) as caught:
        read_run(folder)
    assert message in str(caught.value)
    assert str(folder) in str(caught.value)
