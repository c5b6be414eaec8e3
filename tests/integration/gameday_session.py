"""A real game-day session on the local stack, started through the real CLI, and what tests read of it.

One session per test module (a module-scoped fixture around ``running_session``):
stack and load start once, the tests take turns at its desk, and the end checks
that Ctrl-C reverted everything and left nothing behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from harness.stack.ports import free_port
from tests.integration.shortrun import events

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 240.0  # the whole local stack, on a host that may be busy
WAIT_S = 120.0  # for anything the session does by itself (a live window, a revert, a halt)

T = TypeVar("T")


@dataclass
class Session:
    url: str
    port: int
    folder: Path
    toxiproxy_api: str
    process: subprocess.Popen[str]
    log: Path

    def call(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return httpx.request(method, self.url + path, json=body, timeout=90)

    def state(self) -> dict[str, Any]:
        answer = self.call("GET", "/api/state")
        answer.raise_for_status()
        return answer.json()

    def proxies(self) -> dict[str, Any]:
        """The real Toxiproxy's state: every proxy with its toxics."""
        return httpx.get(f"{self.toxiproxy_api}/proxies", timeout=10).json()

    def toxics(self) -> dict[str, dict[str, Any]]:
        """Our toxics on the link proxies, by name, with their attributes."""
        return {toxic["name"]: toxic for proxy in self.proxies().values() for toxic in proxy["toxics"]
                if toxic["name"].startswith("ff-")}

    def enabled(self, link: str) -> bool:
        return bool(self.proxies()[link]["enabled"])

    def journal(self) -> list[dict[str, Any]]:
        return events(self.folder)

    def harness(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A client command, as a user types it, against this session."""
        return harness_cli(*args, "--control-port", str(self.port))


def harness_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=180)


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float = WAIT_S) -> T:
    """Poll until ``probe`` gives something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:g} s for {what}")
        time.sleep(0.3)


@contextmanager
def running_session(tmp: Path, *args: str) -> Iterator[Session]:
    port = free_port()
    results = tmp / "results"
    command = [sys.executable, "-m", "harness", "gameday", "--backend", "local", "--control-port", str(port),
               "--results-dir", str(results), "--window-seconds", "5", "--max-duration", "20m", *args]
    log = tmp / "session.log"  # a file, not a pipe: a pipe nobody reads would stall the session's output
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        def up() -> dict[str, Any] | None:
            if process.poll() is not None:
                pytest.fail(f"the session ended early (exit {process.returncode}): {log.read_text()[-3000:]}")
            try:
                answer = httpx.get(url + "/api/state", timeout=5)
            except httpx.TransportError:
                return None
            return answer.json() if answer.status_code == 200 else None

        state = wait_for("the control API to answer", up, START_TIMEOUT_S)
        folder = Path(state["folder"])
        stack = next(e for e in events(folder) if e["event"] == "stack-up")
        yield Session(url, port, folder, stack["endpoints"]["toxiproxy_api"], process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=180)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
