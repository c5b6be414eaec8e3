"""The ownership record: its lines, start-time matching, the registry, and when a record is unregistered."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness.errors import StackError
from harness.stack import ownership
from harness.stack.ownership import Identity, Ledger, OwnedFolder, OwnedProcess, parse_record, same_start
from harness.stack.process import ManagedProcess

OWNER = Identity(pid=10, start_time=1000.0)
PROCESS = OwnedProcess(run_id="r1", owner=OWNER, pid=42, start_time=1001.5, pgid=42, sid=42, name="redis",
                       command=["redis-server", "--port", "1"], recorded_at=1001.6)
FOLDER = OwnedFolder(run_id="r1", owner=OWNER, path=Path("/tmp/flowforge-pg-x"), recorded_at=1002.0)


@pytest.mark.parametrize(("text", "owned", "problems"), [
    ("", [], 0),
    (PROCESS.model_dump_json() + "\n", [PROCESS], 0),
    (PROCESS.model_dump_json() + "\n" + FOLDER.model_dump_json() + "\n", [PROCESS, FOLDER], 0),
    # A harness killed mid-write leaves a torn last line: the lines before it still count.
    (PROCESS.model_dump_json() + "\n" + FOLDER.model_dump_json()[:25], [PROCESS], 1),
    ("\n\n" + PROCESS.model_dump_json() + "\n\n", [PROCESS], 0),
    ('{"kind": "container", "run_id": "r1"}\n' + PROCESS.model_dump_json(), [PROCESS], 1),
    ("not json\n", [], 1),
], ids=["empty", "one process", "process and folder", "torn last line", "blank lines", "unknown kind", "garbage"])
def test_record_lines(text: str, owned: list[object], problems: int) -> None:
    parsed, found = parse_record(text)
    assert parsed == owned
    assert len(found) == problems
    assert all(problem.startswith("line ") for problem in found)


@pytest.mark.parametrize(("recorded", "current", "same"), [
    (1001.5, 1001.5, True),
    (1001.5, 1001.51, True),  # one clock tick
    (1001.5, 1002.5, True),  # the boot time psutil adds, read a second apart
    (1001.5, 1003.0, False),  # a recycled pid: a process started later
    (1001.5, 990.0, False),
    (1001.5, None, False),  # no such process now
    (0.0, 0.0, True),
], ids=["equal", "tick", "boot time moved", "recycled later", "earlier", "gone", "zero"])
def test_start_time_matching(recorded: float, current: float | None, same: bool) -> None:
    assert same_start(recorded, current) is same


def test_a_recycled_owner_pid_is_a_dead_owner() -> None:
    me = ownership.current_owner()
    assert ownership.is_alive(me)
    assert not ownership.is_alive(Identity(pid=me.pid, start_time=me.start_time - 3600))


def test_a_start_is_on_disk_and_registered_before_start_returns(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    ledger = Ledger(tmp_path / "run" / ownership.RECORD_FILE, "r-disk", registry=registry)
    process = ManagedProcess("sleeper", ["sleep", "30"], tmp_path / "run" / "sleeper.log", "r-disk", ledger=ledger)
    process.start()
    try:
        owned, problems = ownership.read_record(ledger.record)
        assert problems == []
        [line] = owned
        assert isinstance(line, OwnedProcess)
        assert (line.pid, line.name, line.command, line.run_id) == (process.pid, "sleeper", ["sleep", "30"], "r-disk")
        assert line.sid == line.pgid == line.pid, "started in its own session"
        assert line.owner == ownership.current_owner()
        assert ownership.is_alive(line.identity)
        [(path, entry)] = ownership.registered(registry)
        assert entry is not None and entry.record == ledger.record.absolute() and entry.run_id == "r-disk"
        assert stat.S_IMODE(registry.stat().st_mode) == 0o700
    finally:
        process.stop(timeout_s=2)
    # The last process stopped: the record stays with the run, the registry forgets it.
    assert ownership.registered(registry) == []
    assert ledger.record.is_file()


def test_a_record_stays_registered_while_anything_in_it_lives(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    ledger = Ledger(tmp_path / ownership.RECORD_FILE, "r-two", registry=registry)
    first, second = (ManagedProcess(name, ["sleep", "30"], tmp_path / f"{name}.log", "r-two", ledger=ledger)
                     for name in ("first", "second"))
    first.start()
    second.start()
    try:
        first.stop(timeout_s=2)
        assert len(ownership.registered(registry)) == 1
    finally:
        second.stop(timeout_s=2)
    assert ownership.registered(registry) == []


def test_a_registry_someone_else_made_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "registry").symlink_to(target)
    ledger = Ledger(tmp_path / ownership.RECORD_FILE, "r-link", registry=tmp_path / "registry")
    with pytest.raises(StackError, match="not this user's own folder"):
        ledger.register()


def test_unreadable_registry_files_are_listed_as_such(tmp_path: Path) -> None:
    (tmp_path / "torn.json").write_text('{"run_id": "r')
    assert ownership.registered(tmp_path) == [(tmp_path / "torn.json", None)]
    assert ownership.registered(tmp_path / "missing") == []


def test_the_registry_is_per_user() -> None:
    assert ownership.registry_dir().parent.name == f"flowforge-harness-{os.getuid()}"


def test_a_process_started_without_a_run_folder_is_recorded_in_the_registry(tmp_path: Path) -> None:
    process = ManagedProcess("bench-child", ["sleep", "30"], tmp_path / "child.log", f"r-unfiled-{os.getpid()}")
    process.start()
    try:
        assert process.ledger is not None and process.ledger.record.parent == ownership.registry_dir()
        owned, _ = ownership.read_record(process.ledger.record)
        assert [o.pid for o in owned if isinstance(o, OwnedProcess)] == [process.pid]
        assert process.ledger.entry_path.is_file()
    finally:
        process.stop(timeout_s=2)
    assert not process.ledger.entry_path.exists() and not process.ledger.record.exists()
