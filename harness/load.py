"""The load driver: Locust in its own process, following the engine's plan.

Importing locust monkey-patches the process with gevent, so the engine never
imports it: Locust runs as ``python -m locust`` with the locustfile, and the
two sides meet through the files of ``locustfiles.loadplan``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from harness.errors import LoadError
from harness.plan import Plan
from harness.stack.base import Endpoints
from harness.stack.binaries import REPO_ROOT
from harness.stack.process import ManagedProcess
from locustfiles.loadplan import PLAN_ENV, LoadPlan, Targets, write_clock

LOCUSTFILE = REPO_ROOT / "locustfiles" / "flowforge.py"
READY_TIMEOUT_S = 60.0


def targets_of(endpoints: Endpoints) -> Targets:
    return Targets(
        backend=endpoints.backend,
        websocket_url=endpoints.websocket_url,
        redis_url=endpoints.redis_url,
        materialize_dsn=endpoints.materialize_dsn,
        clickhouse_url=endpoints.clickhouse_url,
    )


class LocustDriver:
    def __init__(self, plan: Plan, endpoints: Endpoints, folder: Path, run_id: str) -> None:
        self.load = LoadPlan(plan=plan, targets=targets_of(endpoints), folder=folder)
        self.run_id = run_id
        self._process: ManagedProcess | None = None
        self._records_read = 0

    def __enter__(self) -> "LocustDriver":
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
        self._process = ManagedProcess(
            "locust", argv, self.load.folder / "locust.log", self.run_id,
            env={PLAN_ENV: str(plan_path)}, cwd=REPO_ROOT,
        )
        self._process.start()
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._process is not None
        started = time.monotonic()
        while not self.load.ready_path.exists():
            if not self._process.running():
                raise LoadError(f"Locust exited with code {self._process.exit_code()} before starting its test"
                                f"\nlast lines of {self._process.log_path}:\n{self._process.tail(15)}")
            if time.monotonic() - started > READY_TIMEOUT_S:
                raise LoadError(f"Locust did not start its test within {READY_TIMEOUT_S:.0f} s"
                                f"\nlast lines of {self._process.log_path}:\n{self._process.tail(15)}")
            time.sleep(0.1)

    def start_clock(self, t0: float) -> None:
        write_clock(self.load.clock_path, t0)

    def check_alive(self) -> None:
        if self._process is not None and not self._process.running():
            raise LoadError(f"Locust died during the run (exit code {self._process.exit_code()})"
                            f"\nlast lines of {self._process.log_path}:\n{self._process.tail(15)}")

    def wait_record(self, index: int, timeout_s: float) -> dict | None:
        """The recorder's line for step ``index``, or None if it did not come in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            for record in self._read_records():
                if record.get("index") == index:
                    return record
            if time.monotonic() >= deadline:
                return None
            self.check_alive()
            time.sleep(0.1)

    def _read_records(self) -> list[dict]:
        path = self.load.records_path
        if not path.exists():
            return []
        records = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.endswith("}"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue
        return records

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(timeout_s=15)
