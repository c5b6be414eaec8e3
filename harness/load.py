"""The load driver: Locust and the datastore probes, each in its own process.

Importing locust monkey-patches the process with gevent, so the engine never
imports it (nor anything of ``locustfiles``): Locust runs as ``python -m
locust`` with the locustfile, the probes as ``python -m
locustfiles.probe_process``, and the sides meet through the files of
``harness.contract``. Each process writes its own per-step lines; the driver
merges them (histograms add up exactly).

With ``workers`` > 0 Locust runs distributed on this machine: a master (the
step shape; it binds ``master_bind``, loopback unless the user names another
address) and that many worker processes, every one recorded in the run's
ownership ledger. Workers get the plan and its clock from the master and send
their per-step lines back over Locust's own messages; the master merges them
and writes steps.jsonl as the single process does (``locustfiles.distributed``).
A worker that dies is noted and the run goes on: the master names it lost in
the steps it took part in, and Locust moves its users to the others.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from harness.contract import (
    PLAN_ENV,
    TARGETS_ENV,
    WORKER_NAME_ENV,
    LoadHooks,
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
from harness.stack.ports import LOOPBACK, free_port, port_in_use
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
        # A stack may vouch for more (containers it sees locally, or --allow-remote-target): harness.stack.reach.
        if host is not None and not is_loopback_host(host) and host not in endpoints.reachable_hosts:
            raise LoadError(f"refusing to send load to {name} at {host}: not an address of this run's stack")
    return targets


# Addresses that bind every interface: workers on this machine reach such a master on loopback.
ANY_ADDRESS = ("0.0.0.0", "::", "*")
WORKER_PREFIX = "locust-worker-"
# What a worker on another machine may set to reach the stack by its own addresses (locustfiles.flowforge).
WORKER_OVERRIDES = ("FF_WEBSOCKET_URL", "FF_WEBSOCKET_CONTROL_URL")


class LocustDriver:
    def __init__(self, plan: Plan, endpoints: Endpoints, folder: Path, run_id: str,
                 probes: dict[str, ProbeSettings], ledger: Ledger | None = None,
                 web_port: int | None = None, locustfile: Path = LOCUSTFILE, workers: int = 0,
                 master_bind: str = LOOPBACK, on_worker_lost: Callable[[str], None] | None = None,
                 hooks: LoadHooks | None = None) -> None:
        self.load = LoadPlan(plan=plan, targets=targets_of(endpoints), folder=folder, probes=probes, hooks=hooks)
        # Another locustfile with the same users and recorder (a game day's sets the users live).
        self.locustfile = locustfile
        self.run_id = run_id
        # Locust's web UI on 127.0.0.1:web_port while the engine's plan drives the users (None: headless).
        self.web_port = web_port
        # The run's ownership record: Locust and every probe are written there as they start.
        self.ledger = ledger
        # 0: one Locust process runs every user; N: a master and N worker processes.
        self.workers = workers
        self.master_bind = master_bind
        self.master_port: int | None = None
        self.on_worker_lost = on_worker_lost
        self._processes: list[ManagedProcess] = []
        self._lost: set[str] = set()

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
            sys.executable, "-m", "locust", "-f", str(self.locustfile), *self._ui_args(),
            "--host", self.load.targets.backend, "--csv", str(self.load.folder / "locust"),
            "--only-summary", "--loglevel", "INFO", "--exit-code-on-error", "0", *self._master_args(),
        ]
        env = {PLAN_ENV: str(plan_path), TARGETS_ENV: self.load.targets.model_dump_json()}
        locust = self._start("locust", argv, env)
        # Workers get neither the plan's file nor the targets' credentials: the master sends what they need,
        # and a plain run's address overrides left in the user's shell do not apply to this run's workers.
        worker_env = {name: "" for name in WORKER_OVERRIDES}
        workers = [self._start(name, self._worker_argv(), {**worker_env, WORKER_NAME_ENV: name})
                   for name in (f"{WORKER_PREFIX}{number}" for number in range(1, self.workers + 1))]
        _wait_ready(locust, self.load.ready_path, workers)
        for tier in self.load.probe_tiers():
            probe = self._start(f"{tier}-probe", [sys.executable, "-m", "locustfiles.probe_process", tier], env)
            _wait_ready(probe, self.load.probe_ready_path(tier))

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        process = ManagedProcess(name, argv, self.load.folder / f"{name}.log", self.run_id,
                                 env=env, cwd=REPO_ROOT, ledger=self.ledger)
        self._processes.append(process)
        process.start()
        return process

    def _master_args(self) -> list[str]:
        if not self.workers:
            return []
        self.master_port = self._master_port()
        return ["--master", "--master-bind-host", self.master_bind, "--master-bind-port", str(self.master_port),
                "--expect-workers", str(self.workers), "--expect-workers-max-wait", f"{READY_TIMEOUT_S:g}",
                # A lost worker's users move to the others: the run goes on at the planned load.
                "--enable-rebalancing"]

    def _master_port(self) -> int:
        port = free_port()
        if self.master_bind != LOOPBACK:
            host = "0.0.0.0" if self.master_bind in ANY_ADDRESS else self.master_bind
            if (why := port_in_use(port, host)) is not None:
                raise LoadError(f"--master-bind {self.master_bind}: cannot listen there ({why})")
        return port

    def _worker_argv(self) -> list[str]:
        host = LOOPBACK if self.master_bind in ANY_ADDRESS else self.master_bind
        return worker_argv(host, self.master_port or 0, self.locustfile)

    @property
    def master_address(self) -> str | None:
        """Where workers join (``harness worker --master-host``): None for a one-process run."""
        return None if self.master_port is None else f"{self.master_bind}:{self.master_port}"

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
        """The master (or the one Locust process) and every probe must live; workers may be lost, not all of them."""
        workers = [p for p in self._processes if p.name.startswith(WORKER_PREFIX)]
        for process in self._processes:
            if process.running():
                continue
            if process not in workers:
                raise LoadError(f"{process.name} died during the run (exit code {process.exit_code()})"
                                f"\nlast lines of {process.log_path}:\n{process.tail(15)}")
            if process.name not in self._lost:
                self._lost.add(process.name)
                if self.on_worker_lost is not None:
                    self.on_worker_lost(f"{process.name} died (exit code {process.exit_code()}); the run goes on "
                                        "with the other workers, and the steps it took part in are flagged")
        if workers and len(self._lost) == len(workers):
            raise LoadError(f"every Locust worker died; last lines of {workers[-1].log_path}:\n{workers[-1].tail(15)}")

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


def worker_argv(master_host: str, master_port: int, locustfile: Path = LOCUSTFILE) -> list[str]:
    """One Locust worker of the harness's locustfile, joining the master at ``master_host:master_port``."""
    return [sys.executable, "-m", "locust", "-f", str(locustfile), "--worker", "--master-host", master_host,
            "--master-port", str(master_port), "--loglevel", "INFO"]


def _wait_ready(process: ManagedProcess, ready: Path, helpers: list[ManagedProcess] | None = None) -> None:
    """Until ``process`` touches ``ready``; it or any of its helpers (Locust's workers) exiting first is an error."""
    started = time.monotonic()
    while not ready.exists():
        for each in [process, *(helpers or [])]:
            if not each.running():
                raise LoadError(f"{each.name} exited with code {each.exit_code()} before starting"
                                f"\nlast lines of {each.log_path}:\n{each.tail(15)}")
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
