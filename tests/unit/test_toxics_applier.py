"""toxics.applier: how a failing Toxiproxy is restored, pinned with a scripted stand-in server.

The real server (SIGSTOPped, killed, emptied) is in tests/integration/test_toxiproxy_recovery.py;
these pin the order of the fallbacks and what each Recovery says.
"""

from __future__ import annotations

from typing import Any

import pytest

from toxics import Link, ToxicState
from toxics.applier import Recovery, ToxicApplier
from toxics.client import Proxy, Toxic
from toxics.errors import ToxiproxyError, ToxiproxyUnreachable

LATENCY = ToxicState(Link.REDIS, "latency", "downstream", 1.0, {"latency": 50, "jitter": 0})
DOWN = ToxicState(Link.CLICKHOUSE, "down", "downstream", 1.0, {})


class FakeServer:
    """Toxiproxy as a dict; ``hung`` makes every call time out, ``reset_hangs`` only /reset."""

    def __init__(self) -> None:
        self.proxies: dict[str, Proxy] = {
            name: Proxy(name=name, listen=f"127.0.0.1:{port}", upstream="127.0.0.1:1", enabled=True)
            for name, port in (("redis", 7001), ("redis-control", 7002), ("clickhouse", 7003))}
        self.hung = False
        self.reset_hangs = False
        self.calls: list[str] = []

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if self.hung:
            raise ToxiproxyUnreachable(f"Toxiproxy {what} timed out after 5 s (ReadTimeout)")

    def _set(self, name: str, **update: Any) -> None:
        self.proxies[name] = self.proxies[name].model_copy(update=update)

    def proxies_(self) -> dict[str, Proxy]:
        self._call("GET /proxies")
        return dict(self.proxies)

    def reset(self) -> None:
        self._call("POST /reset")
        if self.reset_hangs:
            raise ToxiproxyUnreachable("Toxiproxy POST /reset timed out after 5 s (ReadTimeout)")
        for name in self.proxies:
            self._set(name, toxics=[], enabled=True)

    def create_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        self._call(f"POST /proxies {name}")
        self.proxies[name] = Proxy(name=name, listen=listen, upstream=upstream, enabled=True)
        return self.proxies[name]

    def set_enabled(self, name: str, enabled: bool) -> Proxy:
        self._call(f"PATCH {name} enabled={enabled}")
        self._set(name, enabled=enabled)
        return self.proxies[name]

    def add_toxic(self, proxy: str, state: ToxicState) -> Toxic:
        self._call(f"POST {proxy} toxic")
        if proxy not in self.proxies:
            raise ToxiproxyError(f"Toxiproxy POST /proxies/{proxy}/toxics answered 404: proxy not found")
        if state.attributes.get("latency", 0) < 0:
            raise ToxiproxyError(f"Toxiproxy POST /proxies/{proxy}/toxics answered 400: bad attributes")
        toxic = Toxic(name=state.name, type=state.type, stream=state.stream, toxicity=1.0,
                      attributes=dict(state.attributes))
        self._set(proxy, toxics=[*self.proxies[proxy].toxics, toxic])
        return toxic

    def update_toxic(self, proxy: str, state: ToxicState) -> Toxic:
        self._call(f"PATCH {proxy} toxic")
        return self.proxies[proxy].toxics[0]

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call(f"DELETE {proxy} {name}")
        self._set(proxy, toxics=[t for t in self.proxies[proxy].toxics if t.name != name])

    def restart(self) -> None:
        """What the stack's restart leaves: a live server with the link proxies, no toxic."""
        self.hung = self.reset_hangs = False
        self.calls.append("restart")
        for name in self.proxies:
            self._set(name, toxics=[], enabled=True)


class Client:
    """The ToxiproxyClient surface the applier uses, over a FakeServer."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server

    def __getattr__(self, name: str) -> Any:
        return getattr(self.server, "proxies_" if name == "proxies" else name)


def _applier(server: FakeServer, restart: bool = True) -> tuple[ToxicApplier, list[Recovery]]:
    heard: list[Recovery] = []
    applier = ToxicApplier(Client(server), restart=server.restart if restart else None,  # type: ignore[arg-type]
                           on_recovery=heard.append)
    assert applier.check() is None  # the proxies as first seen
    return applier, heard


def _on(server: FakeServer) -> dict[str, Any]:
    return {name: ([t.name for t in proxy.toxics], proxy.enabled) for name, proxy in server.proxies.items()}


def test_a_hung_server_is_reset_then_restarted_and_the_step_put_back() -> None:
    server = FakeServer()
    applier, heard = _applier(server)
    applier.apply([LATENCY, DOWN])
    server.hung = True
    recovery = applier.check()
    assert recovery is not None and heard == [recovery]
    assert recovery.restarted
    assert recovery.trigger == "Toxiproxy GET /proxies timed out after 5 s (ReadTimeout)"
    assert recovery.actions[1:] == [
        "POST /reset failed: Toxiproxy POST /reset timed out after 5 s (ReadTimeout)",
        "restart Toxiproxy: done",
        "put back: add ff-redis-latency-downstream, add ff-clickhouse-down-downstream",
    ]
    assert recovery.last_ok_at <= recovery.restored_at
    assert _on(server)["redis"] == (["ff-redis-latency-downstream"], True)
    assert _on(server)["clickhouse"] == ([], False)
    assert applier.check() is None, "restored: the next check finds everything"


def test_reset_is_enough_when_it_answers() -> None:
    server = FakeServer()
    applier, _ = _applier(server)
    applier.apply([LATENCY])
    server.hung = True

    def one_failure(proxy: str, name: str) -> None:
        server.hung = False  # the server comes back: the /reset after this answers
        raise ToxiproxyUnreachable("Toxiproxy DELETE timed out after 5 s")

    server.remove_toxic = one_failure  # type: ignore[method-assign]
    changes = applier.apply([])
    assert changes == [] and applier.active() == []
    assert "restart" not in server.calls
    assert _on(server)["redis"] == ([], True)


def test_an_apply_that_fails_restores_and_applies_the_new_step() -> None:
    server = FakeServer()
    applier, heard = _applier(server)
    server.hung = True
    changes = applier.apply([LATENCY])
    assert [(c.kind.value, c.name) for c in changes] == [("add", "ff-redis-latency-downstream")]
    assert heard[0].trigger == "Toxiproxy POST redis toxic timed out after 5 s (ReadTimeout)"
    assert _on(server)["redis"] == (["ff-redis-latency-downstream"], True)


def test_a_server_that_lost_proxies_gets_them_back_without_reset() -> None:
    server = FakeServer()
    applier, heard = _applier(server)
    applier.apply([LATENCY])
    del server.proxies["redis"], server.proxies["redis-control"]  # restarted by someone else
    recovery = applier.check()
    assert recovery is not None and not recovery.restarted
    assert recovery.trigger == ("Toxiproxy answers but lost 2 proxies (redis, redis-control) and lost our toxics "
                                "(ff-redis-latency-downstream) (restarted?)")
    assert recovery.actions[1:] == ["re-created 2 proxies: redis, redis-control",
                                    "put back: add ff-redis-latency-downstream"]
    assert "POST /reset" not in server.calls
    assert server.proxies["redis"].listen == "127.0.0.1:7001", "where it was"
    assert _on(server)["redis"] == (["ff-redis-latency-downstream"], True)


def test_a_toxic_removed_behind_our_back_is_put_back() -> None:
    server = FakeServer()
    applier, _ = _applier(server)
    applier.apply([LATENCY, DOWN])
    server.reset()  # someone's POST /reset
    recovery = applier.check()
    assert recovery is not None
    assert "lost our toxics (ff-redis-latency-downstream, ff-clickhouse-down-downstream)" in recovery.trigger
    assert _on(server)["clickhouse"] == ([], False)


def test_without_a_restart_a_hung_server_is_an_error_naming_every_attempt() -> None:
    server = FakeServer()
    applier, _ = _applier(server, restart=False)
    server.hung = True
    with pytest.raises(ToxiproxyError, match=r"could not be restored: Toxiproxy GET /proxies timed out .*; "
                                             r"POST /reset failed: Toxiproxy POST /reset timed out"):
        applier.check()


def test_clear_falls_back_to_a_restart_when_reset_hangs() -> None:
    server = FakeServer()
    applier, heard = _applier(server)
    applier.apply([LATENCY])
    server.hung = True
    assert applier.clear() == []  # nothing could be read; the restarted server carries nothing
    assert server.calls[-1] == "restart"
    assert heard and heard[0].restarted
    assert applier.active() == []
    assert _on(server)["redis"] == ([], True)


def test_a_refused_request_to_an_intact_server_is_an_error_not_an_outage() -> None:
    server = FakeServer()
    applier, heard = _applier(server)
    wrong = ToxicState(Link.REDIS, "latency", "downstream", 1.0, {"latency": -1, "jitter": 0})
    with pytest.raises(ToxiproxyError, match="answered 400"):
        applier.apply([wrong])
    assert heard == [] and "POST /reset" not in server.calls and "restart" not in server.calls


def test_a_404_for_a_proxy_it_lost_re_creates_the_proxy() -> None:
    server = FakeServer()
    applier, heard = _applier(server)
    del server.proxies["redis"]
    changes = applier.apply([LATENCY])
    assert [(c.kind.value, c.name) for c in changes] == [("add", "ff-redis-latency-downstream")]
    assert heard[0].trigger.endswith("answered 404: proxy not found")
    assert heard[0].actions[1] == "re-created 1 proxies: redis" and not heard[0].restarted
    assert _on(server)["redis"] == (["ff-redis-latency-downstream"], True)
