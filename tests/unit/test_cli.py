"""harness.cli: exit codes and messages of validate, plan, run and report, starting no service."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

import harness.cli
import harness.runner
from harness.cli import EXIT_BAD_INPUT
from harness.contract import Series, StepLine, TierSeries
from harness.errors import SpecError
from harness.histogram import encode, new_histogram, record_ms
from harness.journal import Journal
from harness.plan import build_plan
from harness.record import build_record
from harness.spec import EXPERIMENTS_DIR, Experiment, TierSlo
from tests.unit.cli_runner import run_cli

FIXTURES = Path(__file__).resolve().parent / "fixtures"


_run = run_cli


@pytest.fixture(autouse=True)
def _no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests must never bring a stack up: fail loudly if `run` gets that far."""
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("run_experiment was called: bad input reached the runner")

    monkeypatch.setattr(harness.runner, "run_experiment", refuse)


# --- validate ---------------------------------------------------------------------------------


def test_validate_good_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "good.yaml")
    assert _run(["validate", path], capsys) == (0, f"{path}: ok\n", "")


def test_validate_catalogue_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["validate", "baseline", "clickhouse-latency"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == ["baseline: ok", "clickhouse-latency: ok"]


@pytest.mark.parametrize(
    ("fixture", "lines"),
    [
        ("bad-ramp.yaml", ["ramp.settle_s: settle_s (10) must be shorter than step_s (10): no time would be left to measure"]),
        ("bad-yaml.yaml", ["not valid YAML: line 4, column 9: expected ',' or ']', but got ':'"]),
        ("bad-many.yaml", [
            "name: String should match pattern '^[a-z0-9][a-z0-9-]*$'",
            "ramp.spawn_rate: Input should be greater than 0",
            "faults.0.link: Input should be 'redis', 'materialize', 'clickhouse' or 'websocket'",
            "faults.1.toxicity: Input should be less than or equal to 1",
            "faults.1.levels.0.rate_kbps: Input should be greater than 0",
        ]),
    ],
)
def test_validate_bad_file_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str], fixture: str,
                                                    lines: list[str]) -> None:
    path = str(FIXTURES / fixture)
    code, out, err = _run(["validate", path], capsys)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err.startswith("error: ")
    assert path in err
    for line in lines:
        assert line in err


def test_validate_reports_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = str(FIXTURES / "good.yaml"), str(FIXTURES / "bad-ramp.yaml")
    code, out, err = _run(["validate", good, bad, "no-such-experiment"], capsys)
    assert code == EXIT_BAD_INPUT
    assert out == f"{good}: ok\n"
    assert f"{bad}: ramp.settle_s: settle_s (10) must be shorter than step_s (10)" in err
    assert "no experiment named 'no-such-experiment'" in err


def test_validate_says_which_file_each_problem_belongs_to(capsys: pytest.CaptureFixture[str]) -> None:
    many, ramp = FIXTURES / "bad-many.yaml", FIXTURES / "bad-ramp.yaml"
    code, _, err = _run(["validate", str(many), str(ramp)], capsys)
    assert code == EXIT_BAD_INPUT
    problem_lines = [line for line in err.splitlines() if ": " in line and "problems:" not in line]
    assert problem_lines, err
    for line in problem_lines:
        assert many.name in line or ramp.name in line, f"no file named on: {line!r}\n{err}"


def test_validate_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["validate"], capsys)
    assert code == EXIT_BAD_INPUT
    assert "Missing argument 'FILES...'" in err


def test_validate_recognises_the_slo_defaults_file(capsys: pytest.CaptureFixture[str]) -> None:
    slos = str(EXPERIMENTS_DIR / "slos.yaml")
    code, out, err = _run(["validate", slos, "baseline"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"{slos}: ok (SLO defaults)", "baseline: ok"]


def test_validate_checks_an_slo_defaults_file_as_slos(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    slos = tmp_path / "slos.yaml"
    slos.write_text("slos:\n  redis: {p99: 1}\n", encoding="utf-8")
    code, out, err = _run(["validate", str(slos)], capsys)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err == f"error: {slos}: slos.redis.p99: unknown field; did you mean 'p99_ms'?\n"


def test_validate_reports_a_broken_slo_file_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Both the SLO file and an experiment beside it read it; its problem is said once."""
    slos = tmp_path / "slos.yaml"
    slos.write_text("slos:\n  redis: {p99_ms: 0}\n", encoding="utf-8")
    experiment = tmp_path / "exp.yaml"
    experiment.write_text("name: x\nramp: {users: [5]}\n", encoding="utf-8")
    code, _, err = _run(["validate", str(slos), str(experiment)], capsys)
    assert code == EXIT_BAD_INPUT
    assert err == f"error: {slos}: slos.redis.p99_ms: Input should be greater than 0\n"


def test_validate_refuses_what_the_plan_refuses(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """validate builds the plan, as run does, and names the file for what it refuses."""
    def refuse(_spec: Experiment) -> None:
        raise SpecError("faults.0: refused by the plan")

    monkeypatch.setattr(harness.cli, "build_plan", refuse)
    path = str(FIXTURES / "good.yaml")
    code, out, err = _run(["validate", path], capsys)
    assert (code, out, err) == (EXIT_BAD_INPUT, "", f"error: {path}: faults.0: refused by the plan\n")


def test_validate_refuses_duplicate_faults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("name: dup\nramp: {users: [5]}\nfaults:\n"
                    "  - {link: redis, type: latency, levels: [{latency_ms: 1}]}\n"
                    "  - {link: redis, type: latency, levels: [{latency_ms: 2}]}\n", encoding="utf-8")
    code, _, err = _run(["validate", str(path)], capsys)
    assert code == EXIT_BAD_INPUT
    assert err == (f"error: {path}: faults.1: a second latency downstream fault on link redis (the first is "
                   "faults.0); merge their levels into one fault\n")


def test_validate_suggests_the_nearest_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["validate", "baselin"], capsys)
    assert code == EXIT_BAD_INPUT
    assert "no experiment named 'baselin'" in err and "did you mean 'baseline'?" in err


def test_validate_every_fault_type(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(FIXTURES / "every-fault.yaml")
    assert _run(["validate", path], capsys) == (0, f"{path}: ok\n", "")


# --- plan -------------------------------------------------------------------------------------


def test_plan_with_short_steps(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["plan", "clickhouse-latency", "--step-seconds", "8"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "step 1:    5 users  t=     0 s  window 2–8 s  no toxics",
        "step 2:   10 users  t=     8 s  window 10–16 s  clickhouse latency 50 ms downstream",
        "step 3:   25 users  t=    16 s  window 18–24 s  clickhouse latency 100 ms downstream",
        "step 4:   50 users  t=    24 s  window 26–32 s  clickhouse latency 200 ms downstream",
        "step 5:  100 users  t=    32 s  window 34–40 s  clickhouse latency 400 ms downstream",
        "total: 42 s",
        "probes (per path: the faulted link and its control proxy, alternated; open model):",
        "  redis        166.67/s per path, 2 connections per path, ~1000 samples per path per window "
        "(SLO p99 < 1 ms)",
        "  materialize  166.67/s per path, 4 connections per path, ~1000 samples per path per window "
        "(SLO p99 < 10 ms)",
        "  clickhouse   10/s per path, 10 connections per path, ~60 samples per path per window "
        "(SLO p95 < 500 ms)",
        "  websocket    34 viewers per path, ~2 pushes/s each, ~408 samples per path per window "
        "(SLO p95 < 200 ms)",
    ]


def test_plan_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["plan", "clickhouse-latency"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "step 1:    5 users  t=     0 s  window 10–60 s  no toxics"
    assert "total: 303 s" in lines
    # Enough samples by construction: each tier's probe rate fills its window for its percentile.
    assert any(line.startswith("  redis        100/s per path") and "~5000 samples" in line for line in lines)
    assert not any("warning" in line for line in lines)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "baseline", "--step-seconds", "0"], "error: --step-seconds must be at least 2 (1 s to settle, 1 s to measure), got 0"),
        (["plan", "baseline", "--step-seconds", "-3"], "error: --step-seconds must be at least 2 (1 s to settle, 1 s to measure), got -3"),
        (["plan", "no-such-experiment"], "error: no experiment named 'no-such-experiment'"),
        (["plan", "baseline", "--step-seconds", "soon"], "'soon' is not a valid float"),
    ],
)
def test_plan_bad_input_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = _run(argv, capsys)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert message in err


def test_plan_describes_every_fault_type_with_units(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["plan", str(FIXTURES / "every-fault.yaml")], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[:3] == [
        "step 1:    2 users  t=     0 s  window 4–20 s  clickhouse bandwidth 64 KB/s per connection upstream; "
        "websocket slicer, 64 ±32 byte chunks, 500 µs apart downstream",
        "step 2:    4 users  t=    20 s  window 24–40 s  clickhouse latency 200 ms ±10 ms downstream; "
        "redis slow close, closing delayed 250 ms downstream; "
        "websocket limit data, connections closed after 4096 bytes upstream; materialize link down (proxy disabled)",
        "step 3:    6 users  t=    40 s  window 44–60 s  clickhouse latency 400 ms downstream; "
        "clickhouse timeout, data stopped, connection held open upstream; "
        "redis reset peer, connections reset after 100 ms downstream, 50% of connections",
    ]


def test_plan_of_the_slo_defaults_file_says_what_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["plan", "slos"], capsys)
    assert (code, out) == (EXIT_BAD_INPUT, "")
    assert err == (f"error: {EXPERIMENTS_DIR / 'slos.yaml'}: is the SLO defaults file (slos per tier), not an "
                   "experiment; `harness validate` checks it, run and plan need an experiment\n")


# --- run (bad input only: nothing may start) --------------------------------------------------


@pytest.mark.parametrize(
    ("experiment", "extra", "message"),
    [
        ("no-such-experiment", [], "error: no experiment named 'no-such-experiment'"),
        ("missing.yaml", [], "error: experiment file missing.yaml does not exist"),
        (str(FIXTURES / "bad-ramp.yaml"), [], "ramp.settle_s: settle_s (10) must be shorter than step_s (10)"),
        ("baseline", ["--step-seconds", "0"], "error: --step-seconds must be at least 2 (1 s to settle, 1 s to measure), got 0"),
    ],
)
def test_run_with_bad_input_exits_2_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], experiment: str, extra: list[str], message: str
) -> None:
    results = tmp_path / "results"
    code, out, err = _run(["run", experiment, "--results-dir", str(results), *extra], capsys)
    assert code == EXIT_BAD_INPUT
    assert message in err
    assert "results:" not in out
    assert not results.exists()


def test_run_rejects_an_unknown_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    code, _, err = _run(["run", "baseline", "--backend", "cloud", "--results-dir", str(results)], capsys)
    assert code == EXIT_BAD_INPUT
    assert "Invalid value for '--backend'" in err and "'cloud'" in err
    assert not results.exists()


@pytest.mark.parametrize(("status", "code"), [("aborted", 1), ("interrupted", 130)])
def test_run_exit_code_of_a_run_that_ended_early(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, status: str, code: int) -> None:
    """A stop condition is the experiment's own "this broke": exit 1, whatever the steps before it said."""
    from harness.results import write_results
    from harness.runner import RunOutcome
    from tests.unit.test_results import _stopped_run

    folder = _stopped_run(tmp_path)
    summary = write_results(folder).model_copy(update={"status": status})
    monkeypatch.setattr(harness.runner, "run_experiment", lambda *args, **kwargs: RunOutcome(folder, summary, None))
    got, out, _ = _run(["run", "baseline", "--backend", "local", "--linger", "0", "--results-dir",
                        str(tmp_path / "results")], capsys)
    assert got == code
    assert f"results: {folder}" in out
    assert "a stop condition aborted the run" in harness.cli.exit_meaning(1)


# --- report -----------------------------------------------------------------------------------


def test_report_on_a_folder_without_journal_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["report", str(tmp_path)], capsys)
    assert code == EXIT_BAD_INPUT
    assert out == ""
    assert err == f"error: {tmp_path} has no journal.jsonl: not a run folder\n"
    assert list(tmp_path.iterdir()) == []


def test_report_on_a_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["report", str(tmp_path / "nope")], capsys)
    assert code == EXIT_BAD_INPUT
    assert "does not exist" in err


def test_report_on_a_journal_without_run_start_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Journal(tmp_path / "journal.jsonl").append("clock", t0=1.0)
    code, _, err = _run(["report", str(tmp_path)], capsys)
    assert code == EXIT_BAD_INPUT
    assert "has no run-start event" in err


def test_report_rebuilds_results_of_a_killed_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    experiment = Experiment.model_validate({"name": "cli-report", "ramp": {"users": [5, 10], "step_s": 20,
                                                                           "settle_s": 5}})
    plan = build_plan(experiment)
    slos = {"redis": TierSlo(p99_ms=1)}
    histogram = new_histogram()
    for _ in range(600):
        record_ms(histogram, 0.4)
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("run-start", experiment="cli-report", run_id="r-1", backend="local", planned_steps=2,
                   slos={"redis": "p99 < 1 ms"})
    line = StepLine(index=1, tiers={"redis": TierSeries(faulted=Series(hdr=encode(histogram)))})
    journal.append("step", record=build_record(plan.steps[0], line, slos))
    # killed here: no second step, no run-end
    code, out, err = _run(["report", str(tmp_path)], capsys)
    assert (code, err) == (0, "")
    assert {"summary.json", "steps.csv", "junit.xml"} <= {p.name for p in tmp_path.iterdir()}
    markdown, html = out.strip().splitlines()
    assert markdown.endswith("report.md") and html.endswith("report.html")
    assert "Partial run:** 1 of 2 steps completed" in Path(markdown).read_text()
    assert "Partial run" in Path(html).read_text()


@pytest.mark.parametrize("flag", ["--web-port", "--metrics-port"])
def test_run_with_a_listener_port_in_use_exits_2_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str) -> None:
    results = tmp_path / "results"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = _run(["run", "baseline", "--backend", "local", "--results-dir", str(results),
                               flag, str(port)], capsys)
    assert code == EXIT_BAD_INPUT
    assert f"error: {flag} {port}: cannot listen on 127.0.0.1 (Address already in use)" in err
    assert "results:" not in out
    assert not results.exists()


def test_overrides_edit_the_experiment_before_it_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["plan", "clickhouse-latency", "--step-seconds", "8", "--users", "5,10",
                           "--set", "faults.0.levels=[null, {latency_ms: 300}]"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        "step 1:    5 users  t=     0 s  window 2–8 s  no toxics",
        "step 2:   10 users  t=     8 s  window 10–16 s  clickhouse latency 300 ms downstream",
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--users", "5,ten"], "--users '5,ten': give whole numbers"),
        (["--set", "faults.7.levels=[]"], "faults.7 is not an item of a list of 1"),
        (["--set", "ramp.users"], "write PATH=VALUE"),
        (["--set", "ramp.step_s=-1"], "ramp.step_s: Input should be greater than 0"),
    ],
)
def test_bad_overrides_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, _, err = _run(["plan", "clickhouse-latency", *argv], capsys)
    assert code == EXIT_BAD_INPUT
    assert message in err
