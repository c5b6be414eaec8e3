"""A real Toxiproxy that hangs (SIGSTOP), dies (SIGKILL) or loses its proxies, and the applier restoring it.

The Toxiproxy here is this test's own (it is stopped and killed); the
restart callback starts a new one on the same port, as the local stack's
``restart_toxiproxy`` does, but leaves re-creating the proxies to the applier
(what it saw first), so that path is proven against a real server too. No
call may hang: the client's timeout bounds each, and the whole restoration
is bounded by a few of them.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from harness.errors import StackError
from harness.stack import services
from harness.stack.ports import free_port
from harness.stack.readiness import wait_ready
from harness.stack.services import Service
from tests.integration.conftest import missing, new_run_id
from tests.integration.shortrun import TOXIPROXY_KILLED
from toxics import Link, ToxicApplier, ToxicState, ToxiproxyClient
from toxics.applier import Recovery
from toxics.errors import ToxiproxyError

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0
LATENCY = ToxicState(Link.REDIS, "latency", "downstream", 1.0, {"latency": 50, "jitter": 0})


class OwnToxiproxy:
    """One Toxiproxy service; ``restart`` kills it and starts another on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.run_id = folder, new_run_id("recovery")
        self.service = self._start(None)
        self.url = f"http://127.0.0.1:{self.service.address[1]}"

    def _start(self, port: int | None) -> Service:
        service = services.toxiproxy(self.folder, self.run_id, port=port)
        service.process.start()
        wait_ready(service.name, service.check, service.ready_timeout_s, service.process)
        return service

    @property
    def pid(self) -> int:
        assert self.service.process.pid is not None
        return self.service.process.pid

    def restart(self) -> None:
        self.service.process.stop(timeout_s=1)
        self.service = self._start(self.service.address[1])

    def stop(self) -> None:
        if self.service.process.running():
            os.kill(self.pid, signal.SIGCONT)
        self.service.process.stop(timeout_s=2)


@pytest.fixture
def toxiproxy(tmp_path: Path) -> Iterator[OwnToxiproxy]:
    try:
        own = OwnToxiproxy(tmp_path)
    except StackError as exc:
        missing(str(exc))
    try:
        yield own
    finally:
        own.stop()


@pytest.fixture
def applier(toxiproxy: OwnToxiproxy, redis_service: Service) -> Iterator[tuple[ToxicApplier, list[Recovery], str]]:
    """An applier with the redis link's proxy and a 50 ms toxic on; what it restored; the proxy's address."""
    host, port = redis_service.address
    listen = f"127.0.0.1:{free_port()}"
    heard: list[Recovery] = []
    with ToxiproxyClient(toxiproxy.url, timeout_s=TIMEOUT_S) as client:
        client.create_proxy("redis", listen, f"{host}:{port}")
        applier = ToxicApplier(client, restart=toxiproxy.restart, on_recovery=heard.append)
        assert applier.check() is None
        applier.apply([LATENCY])
        yield applier, heard, listen


def _get_ms(listen: str) -> float:
    host, _, port = listen.rpartition(":")
    with redis.Redis(host=host, port=int(port), socket_timeout=3, socket_connect_timeout=2) as client:
        client.ping()
        started = time.perf_counter()
        client.get("anything")
        return (time.perf_counter() - started) * 1000


def _toxics(toxiproxy: OwnToxiproxy) -> list[str]:
    return [t["name"] for t in httpx.get(f"{toxiproxy.url}/proxies/redis/toxics", timeout=2).json()]


def test_a_sigstopped_toxiproxy_is_reset_then_restarted_and_its_toxic_put_back(
        toxiproxy: OwnToxiproxy, applier: tuple[ToxicApplier, list[Recovery], str]) -> None:
    keeper, heard, listen = applier
    stopped = toxiproxy.pid
    _sigstop(stopped)
    started = time.monotonic()
    recovery = keeper.check()
    took = time.monotonic() - started
    # GET /proxies and POST /reset each time out; the restart takes a second or two more.
    assert 2 * TIMEOUT_S <= took < 2 * TIMEOUT_S + 8
    assert recovery is not None and heard == [recovery] and recovery.restarted
    assert "GET" in recovery.trigger and "/proxies timed out after 1 s" in recovery.trigger
    assert recovery.actions[1].startswith("POST /reset failed: Toxiproxy POST ") and "timed out" in recovery.actions[1]
    assert recovery.actions[2:] == ["restart Toxiproxy: done", "re-created 1 proxies: redis",
                                    "put back: add ff-redis-latency-downstream"]
    assert recovery.restored_at - recovery.last_ok_at >= took
    assert toxiproxy.pid != stopped and not _alive(stopped), "the stopped Toxiproxy was killed, not left stopped"
    assert _toxics(toxiproxy) == ["ff-redis-latency-downstream"]
    assert _get_ms(listen) >= 50, "the link carries its toxic again, on the same address"
    assert keeper.check() is None


def test_a_killed_toxiproxy_is_restarted_at_once(toxiproxy: OwnToxiproxy,
                                                 applier: tuple[ToxicApplier, list[Recovery], str]) -> None:
    keeper, heard, listen = applier
    os.kill(toxiproxy.pid, signal.SIGKILL)
    started = time.monotonic()
    recovery = keeper.check()
    assert time.monotonic() - started < 8, "refused connections fail fast: no timeout to wait for"
    assert recovery is not None and recovery.restarted
    # Refused, or reset on the connection the client kept open: either way, no answer.
    assert re.search(TOXIPROXY_KILLED, recovery.trigger), recovery.trigger
    assert _toxics(toxiproxy) == ["ff-redis-latency-downstream"]
    assert _get_ms(listen) >= 50


def test_proxies_lost_are_recreated_without_a_restart(toxiproxy: OwnToxiproxy,
                                                      applier: tuple[ToxicApplier, list[Recovery], str]) -> None:
    keeper, _, listen = applier
    pid = toxiproxy.pid
    httpx.delete(f"{toxiproxy.url}/proxies/redis", timeout=2).raise_for_status()
    recovery = keeper.check()
    assert recovery is not None and not recovery.restarted and toxiproxy.pid == pid
    assert recovery.trigger.startswith("Toxiproxy answers but lost 1 proxies (redis)")
    assert _toxics(toxiproxy) == ["ff-redis-latency-downstream"]
    assert _get_ms(listen) >= 50


def test_a_toxiproxy_continued_within_the_timeout_needs_nothing(
        toxiproxy: OwnToxiproxy, applier: tuple[ToxicApplier, list[Recovery], str]) -> None:
    keeper, heard, _ = applier
    with ToxiproxyClient(toxiproxy.url, timeout_s=3) as patient:
        slow = ToxicApplier(patient)
        assert slow.check() is None
        _sigstop(toxiproxy.pid)
        threading.Timer(0.5, os.kill, (toxiproxy.pid, signal.SIGCONT)).start()
        assert slow.check() is None, "a late answer within the timeout is an answer"
    assert heard == []


def test_without_a_restart_a_hung_toxiproxy_is_an_error_not_a_hang(toxiproxy: OwnToxiproxy) -> None:
    with ToxiproxyClient(toxiproxy.url, timeout_s=TIMEOUT_S) as client:
        keeper = ToxicApplier(client)
        assert keeper.check() is None
        _sigstop(toxiproxy.pid)
        started = time.monotonic()
        with pytest.raises(ToxiproxyError, match="could not be restored"):
            keeper.check()
        assert time.monotonic() - started < 2 * TIMEOUT_S + 2


def _sigstop(pid: int) -> None:
    """Stop the process and wait until the kernel says so: a request served meanwhile would prove nothing."""
    os.kill(pid, signal.SIGSTOP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        tasks = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
        if all(_state(pid, task) in ("T", "t") for task in tasks):
            return
        time.sleep(0.01)


def _state(pid: int, task: int | None = None) -> str:
    with open(f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat", encoding="ascii") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _state(pid) != "Z"
