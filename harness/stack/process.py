"""A child process of the run: recorded, started in its own session, labelled, logged, stopped.

Every start is written to the run's ownership record (``harness.stack.ownership``)
before ``start`` returns; a later run or ``harness cleanup`` reads the records
of dead owners first (``harness.stack.leftovers``). The environment carries
labels too (run id, owner pid and start time) as the second way to find a
process, for one that escaped its record's session; alone they are not
enough, since redis-server and PostgreSQL write their titles over them.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import StackError
from harness.stack.ownership import Ledger, current_owner

RUN_LABEL = "FLOWFORGE_HARNESS_RUN"
OWNER_LABEL = "FLOWFORGE_HARNESS_OWNER"
# The owner's start time: an owner pid recycled by another process does not keep a dead run's processes alive.
OWNER_START_LABEL = "FLOWFORGE_HARNESS_OWNER_START"


def run_labels(run_id: str) -> dict[str, str]:
    """The environment variables that mark a process as this run's, owned by this harness."""
    owner = current_owner()
    return {RUN_LABEL: run_id, OWNER_LABEL: str(owner.pid), OWNER_START_LABEL: repr(owner.start_time)}


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
    # Where the start is recorded: the run folder's record; without one (benchmarks), a record in the registry.
    ledger: Ledger | None = None
    _popen: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def _ledger(self) -> Ledger:
        if self.ledger is None:
            self.ledger = Ledger.unfiled(self.run_id)
        return self.ledger

    def start(self) -> None:
        env = {**os.environ, **self.env, **run_labels(self.run_id)}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Registered before the fork: a harness killed right after it still has a record to be found by.
        self._ledger().register()
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
        try:
            self._ledger().process_started(self._popen.pid, self.name, self.argv)
        except StackError:
            # Unrecorded means unfindable once we die: a process we cannot vouch for is not kept.
            self.stop(timeout_s=2)
            raise

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def exit_code(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def wait(self, timeout_s: float) -> int | None:
        """The exit code, or None if still running after ``timeout_s``."""
        if self._popen is None:
            return None
        try:
            return self._popen.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None

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
        # The last of a run's processes to stop takes its record off the registry.
        self._ledger().release()

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
