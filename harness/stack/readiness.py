"""Readiness checks: small objects sharing one poll loop.

A check answers "ready yet?" once; ``wait_ready`` polls it until it says yes,
the process dies, or time runs out. A timeout names what, where and how long,
with the service's last log lines attached.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from harness.errors import StackError


class Watched(Protocol):
    """What is being waited for: a local process or a container."""

    name: str

    def running(self) -> bool: ...

    def exit_code(self) -> int | None: ...

    def tail(self, lines: int = 20) -> str: ...

    def log_name(self) -> str: ...


class Check(Protocol):
    def where(self) -> str: ...

    def ready(self) -> bool: ...


@dataclass(frozen=True)
class TcpCheck:
    host: str
    port: int

    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return True
        except OSError:
            return False


@dataclass(frozen=True)
class HttpCheck:
    url: str
    expect_status: int = 200

    def where(self) -> str:
        return self.url

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url, timeout=2.0) as response:  # noqa: S310 - loopback
                return response.status == self.expect_status
        except (urllib.error.URLError, OSError):
            return False


@dataclass(frozen=True)
class CallableCheck:
    """Any probe that raises or returns False until the service answers."""

    description: str
    probe: Callable[[], bool]

    def where(self) -> str:
        return self.description

    def ready(self) -> bool:
        try:
            return bool(self.probe())
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            return False


def wait_ready(
    name: str,
    check: Check,
    timeout_s: float,
    process: Watched | None = None,
    interval_s: float = 0.2,
) -> None:
    started = time.monotonic()
    while True:
        if check.ready():
            return
        if process is not None and not process.running():
            raise StackError(
                f"{name} exited with code {process.exit_code()} before answering at "
                f"{check.where()}{_log_note(process)}"
            )
        waited = time.monotonic() - started
        if waited >= timeout_s:
            raise StackError(
                f"{name} not ready at {check.where()} after {waited:.0f} s{_log_note(process)}"
            )
        time.sleep(interval_s)


def _log_note(process: Watched | None) -> str:
    if process is None:
        return ""
    tail = process.tail(15)
    if not tail:
        return f" (log {process.log_name()} is empty)"
    return f"\nlast lines of {process.log_name()}:\n{tail}"
