"""What dead runs left running, found from their records first and their labels second.

A run is dead when its owner (the harness, or whatever started the processes)
is gone, or its pid now names another process. For each dead run's record:
every recorded process whose pid still has the recorded start time (a
recycled pid is never touched), plus the members of the session it leads and
its descendants (PostgreSQL's workers, the postgres under ``runuser``). They
are stopped (SIGSTOP) before anything is killed, so a leader cannot fork a
replacement for a child already counted, then all killed at once.

Labels second: a process carrying a dead owner's run label that no record
named (a child started by a recorded process that escaped its session, or a
run of a harness older than records).
"""

from __future__ import annotations

import shutil
import signal
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.stack import ownership, proctable
from harness.stack.ownership import Identity, OwnedFolder, OwnedProcess
from harness.stack.process import OWNER_LABEL, OWNER_START_LABEL, RUN_LABEL

# How many times a dead run's sessions are re-read while freezing them: each
# pass catches what forked during the last one; frozen processes fork no more.
FREEZE_PASSES = 5
# Only scratch folders the harness names this way are removed on a record's word.
SCRATCH_PREFIX = "flowforge-"


@dataclass(frozen=True)
class Removed:
    """One thing cleanup removed, said per process: name, pid, run, and how it was found."""

    run_id: str
    name: str
    found_by: str
    pid: int | None = None
    program: str | None = None

    def describe(self) -> str:
        if self.pid is None:
            return f"{self.name} of run {self.run_id} ({self.found_by})"
        program = f", {self.program}" if self.program and self.program != self.name else ""
        return f"{self.name} (pid {self.pid}{program}) of run {self.run_id} ({self.found_by})"


def remove_dead_runs(registry: Path | None = None) -> list[Removed]:
    """Every dead run's processes and scratch folders: from the records, then from the labels."""
    removed = remove_recorded(registry)
    return removed + kill_labelled(exclude={r.pid for r in removed if r.pid is not None})


def remove_recorded(registry: Path | None = None) -> list[Removed]:
    """What the records of dead owners name; each run dealt with leaves the registry."""
    removed: list[Removed] = []
    for path, entry in ownership.registered(registry):
        if entry is None or ownership.is_alive(entry.owner):
            continue
        owned, _ = ownership.read_record(entry.record)
        processes = [o for o in owned if isinstance(o, OwnedProcess)]
        removed += kill_recorded(processes)
        # The record's own folder is the run folder, unless the record lives in the registry (no run folder).
        run_folder = entry.record.parent if entry.record.parent != path.parent else None
        removed += remove_folders([o for o in owned if isinstance(o, OwnedFolder)], run_folder)
        # A process that would not die (another user's, stuck in the kernel) keeps its run for the next try.
        if not any(ownership.is_alive(o.identity) for o in processes):
            ownership.forget(path, entry)
    return removed


def kill_recorded(owned: list[OwnedProcess]) -> list[Removed]:
    """Freeze, then kill, every recorded process still alive and what its sessions hold."""
    dead_owned = [o for o in owned if not ownership.is_alive(o.owner)]
    targets: dict[int, tuple[proctable.Seen, Removed]] = {}
    spared = proctable.ancestry()
    for _ in range(FREEZE_PASSES):
        found = _targets(dead_owned, spared | set(targets))
        if not found:
            break
        proctable.send(list(found), signal.SIGSTOP)
        targets.update(found)
    proctable.send(list(targets), signal.SIGKILL)
    proctable.wait_gone(seen for seen, _ in targets.values())
    return [removed for _, removed in targets.values()]


def _targets(owned: list[OwnedProcess], skip: set[int]) -> dict[int, tuple[proctable.Seen, Removed]]:
    """Recorded leaders whose start time still matches, their session members and descendants."""
    found: dict[int, tuple[proctable.Seen, Removed]] = {}
    sessions = proctable.sessions()

    def add(pid: int, run_id: str, name: str | None, found_by: str) -> None:
        if pid not in skip and pid not in found and (now := proctable.seen(pid)) is not None:
            found[pid] = (now, Removed(run_id, name or now.name, found_by, pid, now.name))

    for leader in owned:
        # A zombie leader still holds its pid and its session: that session is the run's to empty.
        now = proctable.seen(leader.pid, zombies=True)
        if now is None or not ownership.same_start(leader.start_time, now.start_time):
            continue
        add(leader.pid, leader.run_id, leader.name, "recorded")
        # Only a session the recorded process leads: any other is someone else's (a terminal's).
        members = sessions.get(leader.pid, []) if leader.sid == leader.pid else []
        for pid in members:
            add(pid, leader.run_id, None, f"in the session of {leader.name}, pid {leader.pid}")
        for pid in proctable.descendants(leader.pid):
            add(pid, leader.run_id, None, f"started under {leader.name}, pid {leader.pid}")
    return found


def remove_folders(owned: list[OwnedFolder], run_folder: Path | None) -> list[Removed]:
    """Recorded folders of dead owners: the stores' data in the run folder, scratch folders in the temp folder."""
    removed = []
    for folder in owned:
        if ownership.is_alive(folder.owner) or not folder.path.is_dir():
            continue
        path = folder.path.resolve()
        if not _removable(path, run_folder):
            continue  # a record is a file on disk: it gets no say over other folders
        shutil.rmtree(path, ignore_errors=True)
        removed.append(Removed(folder.run_id, f"folder {path}", "recorded"))
    return removed


def _removable(path: Path, run_folder: Path | None) -> bool:
    scratch_root = Path(tempfile.gettempdir()).resolve()
    if path.parent == scratch_root and path.name.startswith(SCRATCH_PREFIX):
        return True
    return run_folder is not None and path != run_folder and path.is_relative_to(run_folder.resolve())


def kill_labelled(exclude: set[int]) -> list[Removed]:
    """Processes labelled by a run whose owner is gone, that no record named."""
    found = []
    for seen, env in proctable.labelled():
        run_id, owner = env.get(RUN_LABEL), env.get(OWNER_LABEL, "")
        if not run_id or not owner.isdigit() or seen.pid in exclude:
            continue
        if _label_owner_alive(int(owner), env.get(OWNER_START_LABEL)):
            continue
        found.append((seen, Removed(run_id, seen.name, "labelled", seen.pid, seen.name)))
    proctable.send([seen.pid for seen, _ in found], signal.SIGKILL)
    proctable.wait_gone(seen for seen, _ in found)
    return [removed for _, removed in found]


def processes_of_run(run_id: str) -> list[int]:
    """Live pids still carrying this run's label (tests use it to prove cleanup)."""
    return [seen.pid for seen, env in proctable.labelled() if env.get(RUN_LABEL) == run_id]


def _label_owner_alive(pid: int, start: str | None) -> bool:
    """Labels of a harness older than records name no start time: then any process on that pid counts."""
    try:
        started = float(start) if start else None
    except ValueError:
        started = None
    if started is None:
        return proctable.seen(pid) is not None
    return ownership.is_alive(Identity(pid=pid, start_time=started))
