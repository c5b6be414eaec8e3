"""What the process table says: who a pid is now, its session, its descendants, its environment.

psutil is read here and its errors end here: a process that vanishes, turns
zombie or is not ours to read between two calls is simply "not there", which
is what cleanup wants to know. pid 1 on some machines never reaps zombies, so
a zombie counts as gone everywhere.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import psutil

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied, ProcessLookupError, PermissionError,
         OSError)


@dataclass(frozen=True)
class Seen:
    """A process as the table shows it now."""

    pid: int
    start_time: float  # psutil create_time(): /proc starttime plus boot time, epoch seconds
    name: str
    zombie: bool


def seen(pid: int, zombies: bool = False) -> Seen | None:
    """The process with this pid, or None; a zombie only when asked for (it holds its pid and session)."""
    try:
        proc = psutil.Process(pid)
        zombie = proc.status() == psutil.STATUS_ZOMBIE
        if zombie and not zombies:
            return None
        return Seen(pid, proc.create_time(), proc.name(), zombie)
    except _GONE:
        return None


def start_time(pid: int) -> float | None:
    found = seen(pid)
    return found.start_time if found else None


def session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except _GONE:
        return None


def sessions() -> dict[int, list[int]]:
    """Every process by session id, read in one pass."""
    found: dict[int, list[int]] = {}
    for pid in psutil.pids():
        sid = session_of(pid)
        if sid is not None:
            found.setdefault(sid, []).append(pid)
    return found


def descendants(pid: int) -> list[int]:
    """Children, grandchildren…: they may have left the leader's session (setsid)."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except _GONE:
        return []


def labelled() -> Iterator[tuple[Seen, dict[str, str]]]:
    """Every live process whose environment can be read, with that environment."""
    for pid in psutil.pids():
        found = seen(pid)
        if found is None:
            continue
        try:
            env = psutil.Process(pid).environ()
        except _GONE:
            continue
        yield found, env


def send(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except _GONE:
            pass


def wait_gone(processes: Iterable[Seen], timeout_s: float = 5.0) -> list[Seen]:
    """Wait until none of ``processes`` is alive (zombies count as gone); the ones still alive."""
    left = list(processes)
    deadline = time.monotonic() + timeout_s
    while left:
        left = [p for p in left if (now := seen(p.pid)) is not None and now.start_time == p.start_time]
        if not left or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    return left


def ancestry() -> set[int]:
    """This process and its ancestors: never a cleanup target, whatever a record says."""
    found = {os.getpid()}
    try:
        found.update(parent.pid for parent in psutil.Process().parents())
    except _GONE:
        pass
    return found
