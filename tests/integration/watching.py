"""What the tests that watch a run from outside share: a harness run in the background, scrapes, Prometheus."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness.errors import StackError
from harness.metrics.observe import prometheus_binary
from tests.integration.conftest import missing
from tests.integration.shortrun import start_harness, wait_for_event, write_spec

# What --observe's Prometheus shows once it has scraped both targets.
BOTH_UP = {"flowforge-harness": "up", "flowforge-backend": "up"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def harness_run(tmp_path: Path, *extra: str) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """The short clickhouse-latency run in the background, and its results folder; killed if a test fails."""
    results = tmp_path / "results"
    process = start_harness(write_spec(tmp_path), results, *extra)
    try:
        yield process, results
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def in_step(process: subprocess.Popen[str], results: Path, step: int, timeout_s: float = 300) -> Path:
    """Wait until step ``step``'s toxics are applied (the step runs); the run's folder."""
    return wait_for_event(process, results, lambda e: e["event"] == "toxics" and e["step"] == step, timeout_s)


def finished(process: subprocess.Popen[str], timeout_s: float = 300) -> str:
    """Wait for the run's end; it must have judged (exit 0 or 1). Its stderr (the console)."""
    _, stderr = process.communicate(timeout=timeout_s)
    assert process.returncode in (0, 1), stderr[-3000:]
    return stderr


def wait_until(check: Callable[[], T], timeout_s: float = 20) -> T:
    """``check()`` once it is truthy, or its last value after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def scrape(url: str) -> Samples:
    text = httpx.get(url, timeout=5).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def require_prometheus() -> None:
    try:
        prometheus_binary()
    except StackError as exc:
        missing(str(exc))


def query(url: str, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def targets(url: str) -> dict[str, str]:
    active = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    return {target["labels"]["job"]: target["health"] for target in active}


def gone(url: str) -> None:
    """Nothing listens at ``url`` any more."""
    with pytest.raises(httpx.TransportError):
        httpx.get(url, timeout=2)
