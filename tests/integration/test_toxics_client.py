"""ToxiproxyClient and ToxicApplier against a real toxiproxy-server and a real redis-server.

Both services come from the shared conftest (the product's own stack code);
only the silent TCP listener below is local to this file.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from harness.stack.ports import free_port
from harness.stack.services import Service
from toxics import Link, ToxicApplier, ToxicState, ToxiproxyClient, toxics_for_step
from toxics.errors import ToxiproxyError
from toxics.fault import Fault

pytestmark = pytest.mark.integration


# -- fixtures -------------------------------------------------------------------


def _upstream(redis_service: Service) -> str:
    host, port = redis_service.address
    return f"{host}:{port}"


@pytest.fixture
def client(toxiproxy_url: str) -> Iterator[ToxiproxyClient]:
    with ToxiproxyClient(toxiproxy_url, timeout_s=5.0) as tp:
        yield tp
        for name in tp.proxies():
            tp.delete_proxy(name)


@pytest.fixture
def redis_proxy(client: ToxiproxyClient, redis_service: Service) -> str:
    """Listen address of a proxy named ``redis`` in front of the real redis-server."""
    return client.create_proxy("redis", "127.0.0.1:0", _upstream(redis_service)).listen


def _redis_via(listen: str) -> redis.Redis:
    host, _, port = listen.rpartition(":")
    return redis.Redis(host=host, port=int(port), socket_timeout=3, socket_connect_timeout=1)


def _latency(link: str = "redis", ms: int = 10, stream: str = "downstream") -> ToxicState:
    return ToxicState(Link(link), "latency", stream, 1.0, {"latency": ms, "jitter": 0})  # type: ignore[arg-type]


# -- client ---------------------------------------------------------------------


def test_version(client: ToxiproxyClient) -> None:
    assert client.version()


def test_create_proxy_and_409(client: ToxiproxyClient, redis_service: Service) -> None:
    upstream = _upstream(redis_service)
    created = client.create_proxy("redis", "127.0.0.1:0", upstream)
    assert (created.name, created.upstream, created.enabled, created.toxics) == ("redis", upstream, True, [])
    # 409, same settings: the existing proxy is accepted (by its real port, or by :0)
    assert client.create_proxy("redis", created.listen, upstream) == created
    assert client.create_proxy("redis", "127.0.0.1:0", upstream) == created
    # 409, other settings: refused, saying what differs
    with pytest.raises(ToxiproxyError, match=r"already has a proxy 'redis' .* upstream 127\.0\.0\.1:1\b"):
        client.create_proxy("redis", "127.0.0.1:0", "127.0.0.1:1")
    assert list(client.proxies()) == ["redis"]
    client.delete_proxy("redis")
    assert client.proxies() == {}


def test_add_update_remove_toxic(client: ToxiproxyClient, redis_proxy: str) -> None:
    added = client.add_toxic("redis", _latency(ms=10))
    assert (added.name, added.type, added.stream, added.attributes) == (
        "ff-redis-latency-downstream", "latency", "downstream", {"latency": 10, "jitter": 0},
    )  # fmt: skip
    updated_state = ToxicState(Link.REDIS, "latency", "downstream", 0.5, {"latency": 20, "jitter": 3})
    client.update_toxic("redis", updated_state)
    [toxic] = client.toxics("redis")
    assert (toxic.name, toxic.toxicity, toxic.attributes) == (added.name, 0.5, {"latency": 20, "jitter": 3})
    client.remove_toxic("redis", added.name)
    assert client.toxics("redis") == []


def test_reset_removes_toxics_and_enables(client: ToxiproxyClient, redis_proxy: str) -> None:
    client.add_toxic("redis", _latency())
    client.set_enabled("redis", False)
    client.reset()
    proxy = client.proxies()["redis"]
    assert (proxy.enabled, proxy.toxics) == (True, [])


def test_link_down_and_up(client: ToxiproxyClient, redis_proxy: str) -> None:
    assert _redis_via(redis_proxy).ping()
    assert client.set_enabled("redis", False).enabled is False
    with pytest.raises(redis.ConnectionError):
        _redis_via(redis_proxy).ping()
    assert client.set_enabled("redis", True).enabled is True
    assert _redis_via(redis_proxy).ping()


def _median_get_s(r: redis.Redis, calls: int = 7) -> float:
    r.get("k")  # connect outside the measurement
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        r.get("k")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_latency_toxic_slows_redis(client: ToxiproxyClient, redis_proxy: str) -> None:
    r = _redis_via(redis_proxy)
    assert _median_get_s(r) < 0.050, "without a toxic a GET through the proxy takes well under 50 ms"
    client.add_toxic("redis", _latency(ms=300))
    # Downstream latency is added once per round trip; allow 10 ms for timer
    # granularity below, and 150 ms of scheduling noise above.
    assert 0.290 <= _median_get_s(r, calls=5) < 0.450


def test_error_status_names_the_proxy(client: ToxiproxyClient) -> None:
    with pytest.raises(ToxiproxyError, match=r"POST http://127\.0\.0\.1:\d+/proxies/no-such-proxy/toxics answered 404: .*proxy not found"):
        client.add_toxic("no-such-proxy", _latency())


def test_timeout_is_a_toxics_error() -> None:
    # A listener that never accepts: the kernel completes the handshake, nobody answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with ToxiproxyClient(url, timeout_s=0.5) as tp:
            start = time.monotonic()
            with pytest.raises(ToxiproxyError, match=r"GET http://127\.0\.0\.1:\d+/version timed out after 0\.5 s"):
                tp.version()
            assert time.monotonic() - start < 2.0


def test_connection_refused_is_a_toxics_error() -> None:
    with ToxiproxyClient(f"http://127.0.0.1:{free_port()}", timeout_s=1) as tp:
        with pytest.raises(ToxiproxyError, match="failed: ConnectError"):
            tp.proxies()


@pytest.mark.parametrize("url", ["http://10.1.2.3:8474", "http://example.com:8474", "127.0.0.1:8474"])
def test_remote_api_is_refused_by_default(url: str) -> None:
    with pytest.raises(ToxiproxyError):
        ToxiproxyClient(url)


def test_remote_api_allowed_on_request() -> None:
    ToxiproxyClient("http://10.1.2.3:8474", allow_remote=True).close()


# -- applier --------------------------------------------------------------------


def test_applier_moves_between_levels_in_place(client: ToxiproxyClient, redis_proxy: str) -> None:
    fault = Fault.model_validate(
        {"link": "redis", "type": "latency", "levels": [None, {"latency_ms": 5}, {"latency_ms": 20, "jitter_ms": 2}, None]}
    )
    applier = ToxicApplier(client)
    seen = []
    for step in range(4):
        changes = applier.apply(toxics_for_step([fault], step))
        seen.append([(c.kind.value, c.name) for c in changes])
        assert applier.active() == toxics_for_step([fault], step)
        assert [(t.name, t.attributes) for t in client.toxics("redis")] == [
            (s.name, s.attributes) for s in applier.active()
        ]
    name = "ff-redis-latency-downstream"
    assert seen == [[], [("add", name)], [("update", name)], [("remove", name)]]


def test_clear_removes_ours_only_and_reenables(
    client: ToxiproxyClient, redis_proxy: str, redis_service: Service, toxiproxy_url: str
) -> None:
    client.create_proxy("clickhouse", "127.0.0.1:0", _upstream(redis_service))
    # what a dead run left behind: our toxics on two links and a link down
    client.add_toxic("redis", _latency(ms=5))
    client.add_toxic("clickhouse", _latency("clickhouse", ms=5, stream="upstream"))
    client.set_enabled("clickhouse", False)
    # and a toxic somebody else made by hand
    httpx.post(
        f"{toxiproxy_url}/proxies/redis/toxics",
        json={"name": "someone-else", "type": "latency", "attributes": {"latency": 1}},
        timeout=5,
    ).raise_for_status()

    removed = ToxicApplier(client).clear()  # a fresh applier: nothing in memory

    assert sorted(removed) == ["ff-clickhouse-latency-upstream", "ff-redis-latency-downstream"]
    proxies = client.proxies()
    assert [t.name for t in proxies["redis"].toxics] == ["someone-else"]
    assert proxies["clickhouse"].toxics == []
    assert proxies["clickhouse"].enabled is True


def test_clear_falls_back_to_reset(client: ToxiproxyClient, redis_proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client.add_toxic("redis", _latency())
    applier = ToxicApplier(client)

    def hung(proxy: str, name: str) -> None:
        raise ToxiproxyError(f"Toxiproxy DELETE /proxies/{proxy}/toxics/{name} timed out after 5 s")

    monkeypatch.setattr(client, "remove_toxic", hung)
    assert applier.clear() == ["ff-redis-latency-downstream"]
    assert client.toxics("redis") == []  # removed by POST /reset
