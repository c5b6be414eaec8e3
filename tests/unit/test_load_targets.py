"""Load goes only to the run's own stack, which listens on loopback."""

from __future__ import annotations

import pytest

from harness.errors import LoadError
from harness.load import targets_of
from harness.stack.base import Address, Endpoints, LinkEndpoint


def _endpoints(redis_host: str = "127.0.0.1") -> Endpoints:
    link = LinkEndpoint(listen=Address(host="127.0.0.1", port=1), upstream=Address(host="redis", port=6379))
    return Endpoints(
        backend="http://127.0.0.1:8000", toxiproxy_api="http://127.0.0.1:8474",
        links={name: link for name in ("redis", "materialize", "clickhouse", "websocket")},
        redis_url=f"redis://{redis_host}:16379/0",
        materialize_dsn="postgresql://materialize@127.0.0.1:16875/materialize",
        clickhouse_url="http://localhost:18123", websocket_url="ws://127.0.0.1:18000",
    )


def test_loopback_targets_are_taken() -> None:
    assert targets_of(_endpoints()).redis_url == "redis://127.0.0.1:16379/0"


@pytest.mark.parametrize("host", ["10.0.0.5", "192.168.1.20", "example.com"])
def test_any_other_address_is_refused(host: str) -> None:
    with pytest.raises(LoadError, match=f"refusing to send load to redis_url at {host}"):
        targets_of(_endpoints(redis_host=host))
