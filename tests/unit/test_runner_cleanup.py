"""The runner's cleanup order under failures and signals, with a stand-in stack (no services).

The real stack's cleanup is proven end to end in tests/integration; these pin
the orchestration: teardown registered before start, finished even when a
signal lands in the middle of it, and the run on record either way.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from harness import runner
from harness.errors import StackError
from harness.events import Event
from harness.results import RunStatus
from harness.runner import RunOptions, run_experiment
from harness.spec import Experiment
from harness.stack.base import Endpoints, ManagedStack


class FakeStack(ManagedStack):
    """Starts three parts, fails on the third; can take a SIGINT in the middle of its teardown."""

    name = "fake"

    def __init__(self, signal_during_down: bool) -> None:
        self.running: list[str] = []
        self.signal_during_down = signal_during_down

    def _up(self) -> Endpoints:
        for part in ("toxiproxy", "redis", "clickhouse"):
            self.running.append(part)
        raise StackError("clickhouse not ready at 127.0.0.1:1 after 60 s")

    def down(self) -> None:
        while self.running:
            if self.signal_during_down:
                self.signal_during_down = False
                os.kill(os.getpid(), signal.SIGINT)  # the handler raises here, mid-teardown
            self.running.pop()


class Heard:
    """An observer that keeps the kinds of the events it hears."""

    def __init__(self) -> None:
        self.kinds: list[str] = []

    def __call__(self, event: Event) -> None:
        self.kinds.append(event.kind)


def _experiment() -> Experiment:
    return Experiment.model_validate({"name": "fake", "ramp": {"users": [1], "step_s": 4, "settle_s": 1}})


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> FakeStack:
    fake = FakeStack(signal_during_down=request.param)
    monkeypatch.setattr(runner, "make_stack", lambda *args, **kwargs: fake)
    monkeypatch.setattr(runner, "remove_leftovers", lambda backend: [])
    return fake


@pytest.mark.parametrize("stack", [False], indirect=True)
def test_a_failed_start_stops_what_started_and_is_on_record(stack: FakeStack, tmp_path: Path) -> None:
    heard = Heard()
    outcome = run_experiment(_experiment(), RunOptions(results_dir=tmp_path), [heard])
    assert stack.running == []
    assert outcome.summary.status == RunStatus.FAILED
    # Every output hears the same run: started, ended, results written.
    assert heard.kinds == ["run-start", "run-end", "results"]
    assert "clickhouse not ready" in (outcome.summary.reason or "")
    assert isinstance(outcome.error, StackError)
    assert (outcome.folder / "summary.json").is_file()


@pytest.mark.parametrize("stack", [True], indirect=True)
def test_a_signal_during_teardown_of_a_failed_start_still_stops_everything(
        stack: FakeStack, tmp_path: Path) -> None:
    outcome = run_experiment(_experiment(), RunOptions(results_dir=tmp_path), [Heard()])
    assert stack.running == [], "the teardown cut short by SIGINT must be finished"
    assert outcome.summary.status == RunStatus.INTERRUPTED
    assert "SIGINT" in (outcome.summary.reason or "")


def test_a_bug_is_a_failed_run_not_a_crash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def broken(*args: object, **kwargs: object) -> FakeStack:
        raise KeyError("toxiproxy")

    monkeypatch.setattr(runner, "make_stack", broken)
    monkeypatch.setattr(runner, "remove_leftovers", lambda backend: [])
    outcome = run_experiment(_experiment(), RunOptions(results_dir=tmp_path), [Heard()])
    assert outcome.summary.status == RunStatus.FAILED
    assert outcome.error is not None and "internal error: KeyError" in str(outcome.error)
    assert (outcome.folder / "summary.json").is_file()
