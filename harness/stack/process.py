"""A child process of the run: started in its own session, labelled, logged, stopped.

Every process carries two environment variables, the run id and the pid of the
harness that owns it. A later run (or ``harness cleanup``) finds processes
whose owner is dead by reading them back, and stops them: a killed run leaves
nothing behind for long.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from harness.errors import StackError

RUN_LABEL = "FLOWFORGE_HARNESS_RUN"
OWNER_LABEL = "FLOWFORGE_HARNESS_OWNER"


def run_labels(run_id: str) -> dict[str, str]:
    """The environment variables that mark a process as this run's, owned by this harness."""
    return {RUN_LABEL: run_id, OWNER_LABEL: str(os.getpid())}


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log_path: Path
    run_id: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # PostgreSQL takes SIGINT as "fast shutdown"; SIGTERM would wait for clients.
    stop_signal: signal.Signals = signal.SIGTERM
    _popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def start(self) -> None:
        env = {**os.environ, **self.env, **run_labels(self.run_id)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                # Own session: Ctrl-C in the terminal reaches the harness only,
                # which then stops children in order.
                start_new_session=True,
            )
        except OSError as exc:
            raise StackError(f"{self.name}: cannot start {self.argv[0]}: {exc.strerror}") from exc
        finally:
            log.close()

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def exit_code(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left."""
        if self._popen is None:
            return
        if self._popen.poll() is None:
            _signal_group(self._popen.pid, self.stop_signal)
            try:
                self._popen.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                pass
        # Children that outlived the leader (postgres backends, clickhouse forks).
        _signal_group(self._popen.pid, signal.SIGKILL)
        try:
            self._popen.wait(timeout=5)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"{self.name} (pid {self._popen.pid}) did not stop") from exc

    def tail(self, lines: int = 20) -> str:
        return tail_file(self.log_path, lines)

    def log_name(self) -> str:
        return str(self.log_path)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail_file(path: Path, lines: int = 20) -> str:
    try:
        with open(path, "rb") as handle:
            last = deque(handle, maxlen=lines)
    except OSError:
        return ""
    return b"".join(last).decode("utf-8", "replace").rstrip()


@dataclass(frozen=True)
class Leftover:
    pid: int
    run_id: str
    command: str


def find_orphans() -> list[Leftover]:
    """Processes labelled by a harness run whose owning harness is gone."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            env = proc.environ()
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
            continue
        run_id = env.get(RUN_LABEL)
        owner = env.get(OWNER_LABEL)
        if not run_id or not owner or not owner.isdigit():
            continue
        if _alive(int(owner)):
            continue
        found.append(Leftover(proc.pid, run_id, " ".join(proc.info["cmdline"] or [])[:120]))
    return found


def kill_orphans() -> list[Leftover]:
    orphans = find_orphans()
    for orphan in orphans:
        try:
            os.kill(orphan.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return orphans


def processes_of_run(run_id: str) -> list[int]:
    """Pids still carrying this run's label (tests use it to prove cleanup)."""
    pids = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get(RUN_LABEL) == run_id:
                pids.append(proc.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
            continue
    return pids


def _alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
