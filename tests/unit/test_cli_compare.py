"""harness compare, harness history and harness run --baseline: output and exit codes, starting no service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import harness.runner
from harness.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_SLO_FAILED
from harness.record import StepRecord
from harness.results import write_results
from harness.runner import RunOutcome
from tests.unit.cli_runner import run_cli
from tests.unit.synthetic_runs import BASELINE_STEPS, FAIL, PASS, latency, measured, step, write_run

WORSE_STEPS = [
    *BASELINE_STEPS[:2],
    step(3, 10, {"redis": FAIL, "clickhouse": FAIL},
         {"redis": measured(0.5, 1.2, 2.5), "clickhouse": measured(300, 560, 700)}, [latency(200)]),
]


_run = run_cli


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A baseline, the same again, and a run where two verdicts got worse."""
    return (write_run(tmp_path / "a", BASELINE_STEPS), write_run(tmp_path / "same", BASELINE_STEPS),
            write_run(tmp_path / "worse", WORSE_STEPS))


def test_compare_without_regression_exits_0(runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    a, same, _ = runs
    code, out, err = _run(["compare", str(a), str(same)], capsys)
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[2] == "score: 100/100 → 100/100 (±0)"
    assert "no verdict regressed" in lines
    assert lines[-1] == f"comparison: {same / 'compare.html'}"
    assert (same / "compare.html").is_file()


def test_compare_with_a_regression_exits_1(runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str],
                                           tmp_path: Path) -> None:
    a, _, worse = runs
    output = tmp_path / "out" / "cmp.html"
    code, out, err = _run(["compare", str(a), str(worse), "--output", str(output)], capsys)
    assert (code, err) == (EXIT_SLO_FAILED, "")
    assert ("REGRESSED: 2 verdicts got worse: step 3 clickhouse: pass → fail; step 3 redis: inconclusive → fail"
            in out.splitlines())
    assert output.is_file() and not (worse / "compare.html").exists()


@pytest.mark.parametrize(
    ("which", "make", "message"),
    [
        ("b", lambda p: None, "not a run folder (no such folder)"),
        ("a", lambda p: p.mkdir(), "not a run folder: no journal.jsonl and no summary.json"),
        ("b", lambda p: (p.mkdir(), (p / "journal.jsonl").write_text("{}\nnot json\n{}\n")), "line 2 is not JSON"),
    ],
)
def test_compare_bad_input_exits_2_naming_the_folder(runs: tuple[Path, Path, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str], which: str,
                                                     make: Callable[[Path], object], message: str) -> None:
    bad = tmp_path / "bad"
    make(bad)
    good = runs[0]
    argv = ["compare", str(bad), str(good)] if which == "a" else ["compare", str(good), str(bad)]
    code, out, err = _run(argv, capsys)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err.startswith(f"error: {bad}") and message in err
    assert not (good / "compare.html").exists()


def test_history_lists_runs_and_tolerates_broken_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    write_run(results / "20260101T000000Z-ch-latency", BASELINE_STEPS, started_at=1_767_225_600.0)
    (results / "20260102T000000Z-ch-latency").mkdir()
    (results / "20260102T000000Z-ch-latency" / "journal.jsonl").write_text("garbage\nmore garbage\n")
    code, out, err = _run(["history", "--results-dir", str(results)], capsys)
    assert (code, err) == (EXIT_OK, "")
    lines = out.splitlines()
    assert lines[1].split()[2:4] == ["ch-latency", "unreadable"]
    assert lines[2].strip() == "line 1 is not JSON"
    assert lines[3].split()[:7] == ["2026-01-01", "00:00:00", "ch-latency", "completed", "3/3", "inconclusive",
                                    "100/100"]
    code, out, _ = _run(["history", "other", "--results-dir", str(results)], capsys)
    assert (code, out) == (EXIT_OK, f"no runs of other in {results}\n")
    code, out, _ = _run(["history", "--results-dir", str(tmp_path / "none")], capsys)
    assert (code, out) == (EXIT_OK, f"no runs in {tmp_path / 'none'} (no such folder yet)\n")


# --- run --baseline ---------------------------------------------------------------------------


@pytest.fixture
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("run_experiment was called: bad input reached the runner")

    monkeypatch.setattr(harness.runner, "run_experiment", refuse)


@pytest.mark.usefixtures("no_runs")
def test_run_with_a_bad_baseline_exits_2_and_starts_nothing(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    code, out, err = _run(["run", "baseline", "--backend", "local", "--results-dir", str(results),
                           "--baseline", str(tmp_path / "nope")], capsys)
    assert code == EXIT_BAD_INPUT
    assert err == f"error: {tmp_path / 'nope'}: not a run folder (no such folder)\n"
    assert "results:" not in out
    assert not results.exists()


@pytest.mark.parametrize(
    ("steps", "status", "code"),
    [
        (BASELINE_STEPS, "completed", EXIT_OK),  # same verdicts (one inconclusive, not --strict): 0
        (WORSE_STEPS, "completed", EXIT_SLO_FAILED),  # a verdict regressed to fail
        ([step(1, 5, {"redis": PASS, "clickhouse": PASS}), step(2, 10, {"redis": PASS, "clickhouse": PASS}),
          step(3, 10, {"redis": PASS, "clickhouse": PASS})], "completed", EXIT_OK),  # improved
        (WORSE_STEPS, "interrupted", EXIT_INTERRUPTED),  # the run's own ending ranks first
    ],
)
def test_run_with_baseline_compares_and_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, steps: list[StepRecord],
                                              status: str, code: int) -> None:
    baseline = write_run(tmp_path / "a", BASELINE_STEPS)
    folder = write_run(tmp_path / "results" / "new", steps, status=status)
    summary = write_results(folder)
    monkeypatch.setattr(harness.runner, "run_experiment", lambda *args, **kwargs: RunOutcome(folder, summary, None))
    got, out, _ = _run(["run", "baseline", "--backend", "local", "--linger", "0", "--results-dir",
                        str(tmp_path / "results"), "--baseline", str(baseline)], capsys)
    assert got == code
    assert f"comparison: {folder / 'compare.html'}" in out
    assert (folder / "compare.html").is_file()
    regressed = [line for line in out.splitlines() if line.startswith("REGRESSED")]
    assert bool(regressed) == (steps is WORSE_STEPS)
