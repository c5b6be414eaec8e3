"""Processes the bench starts: pinned to a core, labelled with the bench's run id, always stopped."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from harness.bench.context import BenchContext
from harness.bench.errors import BenchError
from harness.stack.binaries import REPO_ROOT
from harness.stack.process import ManagedProcess

# The load generator gets core 0; what it loads gets core 1, so the two never
# take turns on one core and the generator's number is its own.
GENERATOR_CORE = 0
TARGET_CORE = 1


def pinned(core: int, argv: list[str]) -> list[str]:
    # taskset execs the command: the pid we hold is the program's own.
    return ["taskset", "-c", str(core), *argv]


def child(ctx: BenchContext, name: str, argv: list[str], log_dir: Path,
          env: dict[str, str] | None = None) -> ManagedProcess:
    return ManagedProcess(name, argv, log_dir / f"{name}.log", ctx.run_id, env=env or {}, cwd=REPO_ROOT)


@contextmanager
def running(process: ManagedProcess) -> Iterator[ManagedProcess]:
    """Started on entry, stopped on exit, also when starting or the body fails."""
    try:
        process.start()
        yield process
    finally:
        process.stop(timeout_s=15)


def cpu_until_exit(process: ManagedProcess, timeout_s: float, from_file: Path | None = None) -> float:
    """Wait for the process to end; the CPU seconds (user + system) it used until its last moment.

    With ``from_file``, counted from when that file appears (a process's own
    start-up, imports included, left out).
    """
    proc = handle(process)
    deadline = time.monotonic() + timeout_s
    since: float | None = 0.0 if from_file is None else None
    used = 0.0
    while process.running():
        try:
            times = proc.cpu_times()
            used = times.user + times.system
            if since is None and from_file is not None and from_file.exists():
                since = used
        except psutil.Error:
            pass  # exiting between running() and cpu_times()
        if time.monotonic() >= deadline:
            raise BenchError(f"{process.name} still running after {timeout_s:.0f} s"
                             f"\nlast lines of {process.log_path}:\n{process.tail(15)}")
        time.sleep(0.05)
    if since is None:
        raise BenchError(f"{process.name} ended before writing {from_file}"
                         f"\nlast lines of {process.log_path}:\n{process.tail(15)}")
    return used - since


def handle(process: ManagedProcess) -> psutil.Process:
    if process.pid is None:
        raise BenchError(f"{process.name} is not running")
    try:
        return psutil.Process(process.pid)
    except psutil.NoSuchProcess as exc:
        raise BenchError(f"{process.name} (pid {process.pid}) is gone"
                         f"\nlast lines of {process.log_path}:\n{process.tail(15)}") from exc


def locust_argv(locustfile: str, *options: str) -> list[str]:
    """Headless Locust on the generator core; no periodic console table (it costs the generator CPU)."""
    return pinned(GENERATOR_CORE, [
        sys.executable, "-m", "locust", "-f", str(REPO_ROOT / locustfile), "--headless", "--only-summary",
        "--loglevel", "WARNING", "--exit-code-on-error", "0", *options,
    ])
