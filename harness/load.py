"""The load driver: Locust and the datastore probes, each in its own process.

Importing locust monkey-patches the process with gevent, so the engine never
imports it (nor anything of ``locustfiles``): Locust runs as ``python -m
locust`` with the locustfile, the probes as ``python -m
locustfiles.probe_process``, and the sides meet through the files of
``harness.contract``. Each process writes its own per-step lines; the driver
merges them (histograms add up exactly).
"""

from __future__ import annotations

import ipaddress
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from harness.contract import PLAN_ENV, LoadPlan, ProbeSettings, StepLine, Targets, live_path, merge_lines, write_clock
from harness.errors import LoadError, StackError
from harness.plan import Plan
from harness.stack.base import Endpoints
from harness.stack.binaries import REPO_ROOT
from harness.stack.process import ManagedProcess

LOCUSTFILE = REPO_ROOT / "locustfiles" / "flowforge.py"
READY_TIMEOUT_S = 60.0


def targets_of(endpoints: Endpoints) -> Targets:
    """Where load goes: the stack's own addresses, which every backend publishes on loopback only."""
    targets = Targets(
        backend=endpoints.backend,
        websocket_url=endpoints.websocket_url,
        websocket_control_url=endpoints.websocket_control_url,
        redis_url=endpoints.redis_url,
        redis_control_url=endpoints.redis_control_url,
        materialize_dsn=endpoints.materialize_dsn,
        materialize_control_dsn=endpoints.materialize_control_dsn,
        clickhouse_url=endpoints.clickhouse_url,
        clickhouse_control_url=endpoints.clickhouse_control_url,
    )
    for name, url in targets.model_dump().items():
        host = urlsplit(url).hostname if url else None
        if host is not None and not _loopback(host):
            raise LoadError(f"refusing to send load to {name} at {host}: not an address of this run's stack")
    return targets


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class LocustDriver:
    def __init__(self, plan: Plan, endpoints: Endpoints, folder: Path, run_id: str,
                 probes: dict[str, ProbeSettings]) -> None:
        self.load = LoadPlan(plan=plan, targets=targets_of(endpoints), folder=folder, probes=probes)
        self.run_id = run_id
        self._processes: list[ManagedProcess] = []

    def __enter__(self) -> LocustDriver:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        plan_path = self.load.write()
        argv = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", self.load.targets.backend, "--csv", str(self.load.folder / "locust"),
            "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        ]
        env = {PLAN_ENV: str(plan_path)}
        commands = [("locust", argv, self.load.ready_path)] + [
            (f"{tier}-probe", [sys.executable, "-m", "locustfiles.probe_process", tier],
             self.load.probe_ready_path(tier))
            for tier in self.load.probe_tiers()
        ]
        for name, command, ready in commands:
            process = ManagedProcess(name, command, self.load.folder / f"{name}.log", self.run_id,
                                     env=env, cwd=REPO_ROOT)
            self._processes.append(process)
            process.start()
            _wait_ready(process, ready)

    def start_clock(self, t0: float) -> None:
        write_clock(self.load.clock_path, t0)

    def check_alive(self) -> None:
        for process in self._processes:
            if not process.running():
                raise LoadError(f"{process.name} died during the run (exit code {process.exit_code()})"
                                f"\nlast lines of {process.log_path}:\n{process.tail(15)}")

    def wait_record(self, index: int, timeout_s: float) -> StepLine | None:
        """Step ``index`` as measured by every process, merged; None if a line did not come in time."""
        paths = self._records_paths()
        deadline = time.monotonic() + timeout_s
        while True:
            lines = [_line_for(path, index) for path in paths]
            found = [line for line in lines if line is not None]
            if len(found) == len(paths) or (found and time.monotonic() >= deadline):
                return merge_lines(found).model_copy(update={"expected_sources": len(paths)})
            if time.monotonic() >= deadline:
                return None
            self.check_alive()
            time.sleep(0.1)

    def live(self) -> StepLine | None:
        """The last few seconds as measured by every process, merged (None before any snapshot)."""
        lines = []
        for path in self._records_paths():
            try:
                lines.append(StepLine.model_validate_json(live_path(path).read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        return merge_lines(lines) if lines else None

    def _records_paths(self) -> list[Path]:
        return [self.load.records_path] + [self.load.probe_records_path(t) for t in self.load.probe_tiers()]

    def stop(self) -> None:
        """Stop every load process; one leaves the list only once stopped (see LocalStack.down)."""
        failures = []
        while self._processes:
            try:
                self._processes[-1].stop(timeout_s=15)
            except StackError as exc:
                failures.append(str(exc))
            self._processes.pop()
        if failures:
            raise LoadError("; ".join(failures))


def _wait_ready(process: ManagedProcess, ready: Path) -> None:
    started = time.monotonic()
    while not ready.exists():
        if not process.running():
            raise LoadError(f"{process.name} exited with code {process.exit_code()} before starting"
                            f"\nlast lines of {process.log_path}:\n{process.tail(15)}")
        if time.monotonic() - started > READY_TIMEOUT_S:
            raise LoadError(f"{process.name} did not start within {READY_TIMEOUT_S:.0f} s"
                            f"\nlast lines of {process.log_path}:\n{process.tail(15)}")
        time.sleep(0.1)


def _line_for(path: Path, index: int) -> StepLine | None:
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.endswith("}"):
            continue  # still being written
        try:
            record = StepLine.model_validate_json(line)
        except ValidationError:
            continue
        if record.index == index:
            return record
    return None
