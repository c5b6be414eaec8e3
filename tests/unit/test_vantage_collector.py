"""harness.vantage.collector: the parts of Vantage that need no server (the rest: tests/integration)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import harness.vantage
from harness.vantage import Vantage, VantageRecord


def test_public_names() -> None:
    assert sorted(harness.vantage.__all__) == ["HostCpu", "ServerView", "Vantage", "VantageError", "VantageRecord"]


def test_an_end_without_a_start_is_a_problem_not_an_error() -> None:
    # Nothing listens on port 1, but nothing is asked either: there is no window to compare.
    with Vantage("http://127.0.0.1:1", "redis://127.0.0.1:1/0", None, None) as vantage:
        assert vantage.window_end() == VantageRecord(
            host=None, backend={}, stores={},
            problems=["vantage: window_end() without window_start(); nothing to compare"],
        )


@pytest.mark.parametrize("timeout_s", [0, -1, 2.5])
def test_timeouts_stay_short(timeout_s: float) -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        Vantage("http://127.0.0.1:1", None, None, None, timeout_s=timeout_s)


def test_the_engine_side_imports_neither_locust_nor_gevent() -> None:
    # A fresh interpreter: this test process may have imported them for other tests.
    probe = ("import sys, harness.vantage; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
