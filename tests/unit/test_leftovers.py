"""Cleanup of dead runs against real processes (sleep, bash): records first, labels second, never a stranger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from harness.stack import leftovers, ownership
from harness.stack.leftovers import kill_labelled, kill_recorded, remove_folders
from harness.stack.ownership import Identity, OwnedFolder, OwnedProcess
from harness.stack.process import OWNER_LABEL, OWNER_START_LABEL, RUN_LABEL

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _dead_owner() -> Identity:
    """This process's pid with another start time: what a recycled owner pid looks like."""
    me = ownership.current_owner()
    return Identity(pid=me.pid, start_time=me.start_time - 3600)


def _record(popen: subprocess.Popen[bytes], owner: Identity, name: str, sid: int | None = None,
            start_shift_s: float = 0.0) -> OwnedProcess:
    proc = psutil.Process(popen.pid)
    return OwnedProcess(run_id="r-test", owner=owner, pid=popen.pid, start_time=proc.create_time() + start_shift_s,
                        pgid=popen.pid, sid=sid if sid is not None else os.getsid(popen.pid), name=name,
                        command=list(map(str, popen.args)), recorded_at=time.time())


@pytest.fixture
def spawn() -> Iterator:
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        popen = subprocess.Popen(argv, start_new_session=True, env=env)
        started.append(popen)
        time.sleep(0.3)  # let bash fork its children
        return popen

    yield start
    for popen in started:
        for pid in [popen.pid] + [c.pid for c in _children(popen.pid)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        popen.wait()


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def test_a_dead_runs_leader_goes_with_its_whole_session(spawn) -> None:
    leader = spawn("bash", "-c", "sleep 60 & sleep 60 & wait")
    children = [c.pid for c in _children(leader.pid)]
    assert len(children) == 2

    removed = kill_recorded([_record(leader, _dead_owner(), "forker")])

    leader.wait(timeout=5)
    assert not any(_alive(pid) for pid in children)
    said = sorted(r.describe() for r in removed)
    assert f"forker (pid {leader.pid}, bash) of run r-test (recorded)" in said
    assert [r.pid for r in removed if r.found_by == f"in the session of forker, pid {leader.pid}"] != []
    assert {r.pid for r in removed} == {leader.pid, *children}


@pytest.mark.parametrize(("shift_s", "owner_dead", "killed"), [
    (0.0, True, True),
    (-100.0, True, False),  # the pid now names a process started later: recycled, never killed
    (+100.0, True, False),
    (0.0, False, False),  # the owner lives: its run is not dead
], ids=["match", "recycled (later)", "recycled (earlier)", "live owner"])
def test_only_the_recorded_process_of_a_dead_owner_is_killed(spawn, shift_s: float, owner_dead: bool,
                                                            killed: bool) -> None:
    process = spawn("sleep", "60")
    owner = _dead_owner() if owner_dead else ownership.current_owner()
    removed = kill_recorded([_record(process, owner, "sleeper", start_shift_s=shift_s)])
    assert [r.pid for r in removed] == ([process.pid] if killed else [])
    assert (process.wait(timeout=5) == -signal.SIGKILL) if killed else process.poll() is None


def test_a_session_the_recorded_process_does_not_lead_is_left_alone(spawn) -> None:
    other = spawn("bash", "-c", "sleep 60 & wait")
    recorded = spawn("sleep", "60")
    # A record claiming another's session (edited, or a process started without its own session).
    kill_recorded([_record(recorded, _dead_owner(), "sleeper", sid=other.pid)])
    assert recorded.wait(timeout=5) == -signal.SIGKILL
    assert other.poll() is None and all(_alive(c.pid) for c in _children(other.pid))


OWNER_SCRIPT = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    from harness.stack.ownership import Ledger
    from harness.stack.process import ManagedProcess
    tmp = Path(sys.argv[1])
    ledger = Ledger(tmp / "run" / "owned.jsonl", "r-owner", registry=tmp / "registry")
    # env -i: nothing of the run's labels stays in the environment, as with redis-server's title.
    for name, argv in [("quiet", ["env", "-i", "sleep", "60"]), ("forker", ["bash", "-c", "sleep 60 & wait"])]:
        ManagedProcess(name, argv, tmp / "run" / f"{name}.log", "r-owner", ledger=ledger).start()
    time.sleep(0.3)
    print(" ".join(str(c.pid) for c in __import__("psutil").Process().children(recursive=True)), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
""")


def test_a_killed_owners_record_is_found_through_the_registry(tmp_path: Path) -> None:
    owner = subprocess.run([sys.executable, "-c", OWNER_SCRIPT, str(tmp_path)], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert owner.returncode == -signal.SIGKILL, owner.stderr
    pids = [int(pid) for pid in owner.stdout.split()]
    assert len(pids) == 3 and all(_alive(pid) for pid in pids)
    # The labels cannot see the quiet one: only the record names it.
    assert len(set(pids) - set(leftovers.processes_of_run("r-owner"))) == 1

    removed = leftovers.remove_recorded(tmp_path / "registry")

    assert sorted(r.pid for r in removed if r.pid) == sorted(pids)
    assert not any(_alive(pid) for pid in pids)
    assert ownership.registered(tmp_path / "registry") == [], "a dealt-with run leaves the registry"
    assert (tmp_path / "run" / "owned.jsonl").is_file(), "the record stays with the run"


def test_labels_catch_what_no_record_names(spawn) -> None:
    dead = _dead_owner()
    labels = {RUN_LABEL: "r-labelled", OWNER_LABEL: str(dead.pid), OWNER_START_LABEL: repr(dead.start_time)}
    orphan = spawn("sleep", "60", env={**os.environ, **labels})
    live = ownership.current_owner()
    spared = spawn("sleep", "60", env={**os.environ, **labels, OWNER_START_LABEL: repr(live.start_time)})

    removed = kill_labelled(exclude=set())

    assert orphan.pid in [r.pid for r in removed if r.run_id == "r-labelled" and r.found_by == "labelled"]
    assert orphan.wait(timeout=5) == -signal.SIGKILL
    assert spared.poll() is None


@pytest.mark.parametrize(("where", "owner_dead", "removed"), [
    ("tmp/flowforge-pg-test", True, True),
    ("tmp/flowforge-pg-test", False, False),  # its run is alive
    ("tmp/someone-elses", True, False),  # not a name the harness makes
    ("other/flowforge-pg-test", True, False),  # neither in the temp folder nor in the run folder
    ("run/data", True, True),  # the stores' data in the run folder
    ("run", True, False),  # never the run folder itself: it holds the results
], ids=["scratch", "live owner", "other name", "other place", "run data", "run folder"])
def test_recorded_folders_are_removed_only_where_the_harness_makes_them(tmp_path: Path, where: str,
                                                                      owner_dead: bool, removed: bool) -> None:
    run_folder = tmp_path / "run"
    run_folder.mkdir()
    if where.startswith("tmp/"):
        folder = Path(tempfile.gettempdir()) / f"{where.removeprefix('tmp/')}-{os.getpid()}-{tmp_path.name}"
    else:
        folder = tmp_path / where
    folder.mkdir(parents=True, exist_ok=True)
    try:
        owner = _dead_owner() if owner_dead else ownership.current_owner()
        done = remove_folders([OwnedFolder(run_id="r-f", owner=owner, path=folder, recorded_at=0.0)], run_folder)
        assert bool(done) is removed
        assert folder.exists() is not removed
    finally:
        if folder.exists() and where.startswith("tmp/"):
            folder.rmdir()
