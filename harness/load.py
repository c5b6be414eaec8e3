"""The load driver: Locust and the datastore probes, each in its own process.

Importing locust monkey-patches the process with gevent, so the engine never
imports it (nor anything of ``locustfiles``): Locust runs as ``python -m
locust`` with the locustfile, the probes as ``python -m
locustfiles.probe_process``, and the sides meet through the files of
``harness.contract``. Each process writes its own per-step lines; the driver
merges them (histograms add up exactly).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from harness.contract import (
    PLAN_ENV,
    TARGETS_ENV,
    LoadPlan,
    ProbeSettings,
    StepLine,
    Targets,
    live_path,
    merge_lines,
    write_clock,
)
from harness.errors import LoadError, StackError
from harness.plan import Plan
from harness.stack.base import Endpoints
from harness.stack.binaries import REPO_ROOT
from harness.stack.ownership import Ledger
from harness.stack.ports import LOOPBACK
from harness.stack.process import ManagedProcess
from harness.targets_policy import is_loopback_host

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
        if host is not None and not is_loopback_host(host):
            raise LoadError(f"refusing to send load to {name} at {host}: not an address of this run's stack")
    return targets


class LocustDriver:
    def __init__(self, plan: Plan, endpoints: Endpoints, folder: Path, run_id: str,
                 probes: dict[str, ProbeSettings], ledger: Ledger | None = None,
                 web_port: int | None = None) -> None:
        self.load = LoadPlan(plan=plan, targets=targets_of(endpoints), folder=folder, probes=probes)
        self.run_id = run_id
        # Locust's web UI on 127.0.0.1:web_port while the engine's plan drives the users (None: headless).
        self.web_port = web_port
        # The run's ownership record: Locust and every probe are written there as they start.
        self.ledger = ledger
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
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), *self._ui_args(),
            "--host", self.load.targets.backend, "--csv", str(self.load.folder / "locust"),
            "--only-summary", "--loglevel", "INFO", "--exit-code-on-error", "0",
        ]
        env = {PLAN_ENV: str(plan_path), TARGETS_ENV: self.load.targets.model_dump_json()}
        commands = [("locust", argv, self.load.ready_path)] + [
            (f"{tier}-probe", [sys.executable, "-m", "locustfiles.probe_process", tier],
             self.load.probe_ready_path(tier))
            for tier in self.load.probe_tiers()
        ]
        for name, command, ready in commands:
            process = ManagedProcess(name, command, self.load.folder / f"{name}.log", self.run_id,
                                     env=env, cwd=REPO_ROOT, ledger=self.ledger)
            self._processes.append(process)
            process.start()
            _wait_ready(process, ready)

    def _ui_args(self) -> list[str]:
        if self.web_port is None:
            return ["--headless"]
        # --autostart starts the test as --headless does (the shape then drives it), keeping the UI.
        return ["--autostart", "--web-host", LOOPBACK, "--web-port", str(self.web_port)]

    @property
    def web_url(self) -> str | None:
        return None if self.web_port is None else f"http://{LOOPBACK}:{self.web_port}"

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
        lines = [line for line in self.live_lines().values() if line is not None]
        return merge_lines(lines) if lines else None

    def live_lines(self) -> dict[str, StepLine | None]:
        """Each process's latest snapshot (None: none yet), by its records file name; Locust's first."""
        lines: dict[str, StepLine | None] = {}
        for path in self._records_paths():
            try:
                lines[path.name] = StepLine.model_validate_json(live_path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                lines[path.name] = None
        return lines

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
