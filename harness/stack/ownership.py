"""The ownership record: every process a run starts, written down as it starts.

A run's record is ``owned.jsonl`` in its run folder, one typed line per
process (or scratch folder), appended, flushed and fsynced before the start
returns: a harness killed one instruction later still leaves it on disk.
Labels in the environment are not enough: redis-server and PostgreSQL write
their process titles over it.

Run folders live wherever ``--results-dir`` points, so each record is also
named in a registry in one well-known place (``registry_dir()``), one small
file per record. A record is unregistered when nothing in it is alive any
more; what a dead harness left registered is what ``harness cleanup`` reads.

A pid alone names nobody for long (pids are recycled), so every identity is a
pid and its start time: the owner's as well as each process's.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from harness.errors import StackError
from harness.secrets import mask_secrets
from harness.stack import proctable

RECORD_FILE = "owned.jsonl"
# Both start times come from /proc starttime (clock ticks since boot, fixed for
# a process's life) plus the boot time, which the kernel derives from the wall
# clock and psutil may read a second apart. Reusing a pid within a second of
# the original's start would need the whole pid space to wrap in that second.
START_TOLERANCE_S = 1.0
REGISTRY_ROOT = Path("/tmp")


class Identity(BaseModel):
    """One process for as long as it lives: its pid and when it started."""

    model_config = ConfigDict(frozen=True)

    pid: int
    start_time: float


class _Line(BaseModel):
    """What every record line says: whose run, who started it, when it was written."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    owner: Identity
    recorded_at: float


class OwnedProcess(_Line):
    """A process the run started. With ``start_new_session`` it leads its own session."""

    kind: Literal["process"] = "process"
    pid: int
    start_time: float
    pgid: int
    sid: int
    name: str
    command: list[str]

    @property
    def identity(self) -> Identity:
        return Identity(pid=self.pid, start_time=self.start_time)


class OwnedFolder(_Line):
    """A scratch folder the run made outside its run folder (PostgreSQL's data under a private tmp)."""

    kind: Literal["folder"] = "folder"
    path: Path


Owned = Annotated[OwnedProcess | OwnedFolder, Field(discriminator="kind")]
_OWNED = TypeAdapter(Owned)


class RegistryEntry(BaseModel):
    """Where one record is, and whose it is."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    record: Path
    owner: Identity


def parse_record(text: str) -> tuple[list[OwnedProcess | OwnedFolder], list[str]]:
    """The record's lines, and a note per line that could not be read (a harness killed mid-write)."""
    owned: list[OwnedProcess | OwnedFolder] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            owned.append(_OWNED.validate_json(line))
        except ValidationError as exc:
            problems.append(f"line {number}: {exc.errors()[0]['msg']}")
    return owned, problems


def same_start(recorded: float, current: float | None) -> bool:
    """Whether a pid still names the process that was recorded (None: no such process now)."""
    return current is not None and abs(recorded - current) <= START_TOLERANCE_S


def is_alive(identity: Identity) -> bool:
    """The process is there, not a zombie, and is the one that was recorded (not a recycled pid)."""
    return same_start(identity.start_time, proctable.start_time(identity.pid))


def current_owner() -> Identity:
    pid = os.getpid()
    started = proctable.start_time(pid)
    if started is None:  # pragma: no cover - a process can always read itself
        raise StackError(f"cannot read this process's start time (pid {pid})")
    return Identity(pid=pid, start_time=started)


def registry_dir() -> Path:
    """The one well-known place, per user: cleanup by one user can only touch that user's runs anyway.

    Plain /tmp, not $TMPDIR or $XDG_RUNTIME_DIR: a cleanup from another shell,
    or after a logout, must look in the same place the run wrote to.
    """
    return REGISTRY_ROOT / f"flowforge-harness-{os.getuid()}" / "runs"


def _private_dir(path: Path) -> Path:
    """Create ``path`` 0700, and refuse one in a shared /tmp that someone else made."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        raise StackError(f"ownership registry {path}: {exc.strerror}") from exc
    if info.st_uid != os.getuid() or path.is_symlink():
        raise StackError(f"ownership registry {path} is not this user's own folder; remove it")
    return path


def registered(directory: Path | None = None) -> list[tuple[Path, RegistryEntry | None]]:
    """Every registry file, with its entry (None: unreadable; entries are written whole, so edited or damaged)."""
    directory = directory or registry_dir()
    if not directory.is_dir():
        return []
    found: list[tuple[Path, RegistryEntry | None]] = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append((path, RegistryEntry.model_validate_json(path.read_text(encoding="utf-8"))))
        except (OSError, ValidationError):
            found.append((path, None))
    return found


def read_record(path: Path) -> tuple[list[OwnedProcess | OwnedFolder], list[str]]:
    try:
        return parse_record(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"{path}: {exc.strerror}"]


class Ledger:
    """Writes one record and keeps it registered while anything in it may be alive."""

    def __init__(self, record: Path, run_id: str, registry: Path | None = None) -> None:
        self.record = record
        self.run_id = run_id
        self.registry = registry or registry_dir()
        digest = hashlib.sha256(str(record.absolute()).encode()).hexdigest()[:12]
        self.entry_path = self.registry / f"{run_id}-{digest}.json"

    @classmethod
    def in_folder(cls, folder: Path, run_id: str) -> Ledger:
        return cls(folder / RECORD_FILE, run_id)

    @classmethod
    def unfiled(cls, run_id: str) -> Ledger:
        """For a process started without a run folder (benchmarks): the record lives in the registry."""
        return cls(registry_dir() / f"{run_id}.{RECORD_FILE}", run_id)

    def register(self) -> None:
        """Name the record in the registry; called before every start, so a start is never unfindable."""
        if self.entry_path.exists():
            return
        _private_dir(self.registry)
        entry = RegistryEntry(run_id=self.run_id, record=self.record.absolute(), owner=current_owner())
        # Written aside and renamed: cleanup never reads half an entry.
        partial = self.entry_path.with_suffix(".part")
        try:
            _write_synced(partial, entry.model_dump_json() + "\n", mode="w")
            os.replace(partial, self.entry_path)
        except OSError as exc:
            raise StackError(f"ownership registry {self.entry_path}: {exc.strerror}") from exc

    def process_started(self, pid: int, name: str, argv: list[str]) -> None:
        # Our own unreaped child, even one that already exited, still shows its start time and session.
        seen = proctable.seen(pid, zombies=True)
        sid = proctable.session_of(pid)
        try:
            pgid = os.getpgid(pid)
        except OSError:
            pgid = pid
        # Start time 0 (unreadable) can never match a live process: the line is kept, and harmless.
        self._append(OwnedProcess(run_id=self.run_id, owner=current_owner(), pid=pid,
                                  start_time=seen.start_time if seen else 0.0, pgid=pgid,
                                  sid=sid if sid is not None else pid, name=name,
                                  command=[mask_secrets(arg) for arg in argv],
                                  recorded_at=time.time()))

    def folder_made(self, path: Path) -> None:
        self.register()
        self._append(OwnedFolder(run_id=self.run_id, owner=current_owner(), path=path.absolute(),
                                 recorded_at=time.time()))

    def _append(self, owned: OwnedProcess | OwnedFolder) -> None:
        try:
            self.record.parent.mkdir(parents=True, exist_ok=True)
            _write_synced(self.record, owned.model_dump_json() + "\n", mode="a")
        except OSError as exc:
            raise StackError(f"cannot write the ownership record {self.record}: {exc.strerror}") from exc

    def alive(self) -> list[OwnedProcess]:
        owned, _ = read_record(self.record)
        return [o for o in owned if isinstance(o, OwnedProcess) and is_alive(o.identity)]

    def release(self) -> None:
        """Unregister once nothing recorded is alive: a normal end leaves no registry file behind."""
        if self.alive():
            return
        self.entry_path.unlink(missing_ok=True)
        if self.record.parent == self.registry:
            self.record.unlink(missing_ok=True)


def forget(path: Path, entry: RegistryEntry | None) -> None:
    """Drop a registry file (and the record, if it lived in the registry) once its run is dealt with."""
    path.unlink(missing_ok=True)
    if entry is not None and entry.record.parent == path.parent:
        entry.record.unlink(missing_ok=True)


def _write_synced(path: Path, text: str, mode: str) -> None:
    with open(path, mode, encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def describe_line(owned: OwnedProcess | OwnedFolder) -> str:
    """A record line for people (cleanup output, logs)."""
    if isinstance(owned, OwnedFolder):
        return f"folder {owned.path} of run {owned.run_id}"
    return f"{owned.name} (pid {owned.pid}) of run {owned.run_id}"

