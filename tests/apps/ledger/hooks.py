"""The ledger project's hooks, as a user's project would hold them (named in its flowforge.toml)."""

from __future__ import annotations

import redis

from harness.hooks import SeedTargets

TOKEN = "ledger-secret"
ACCOUNTS = 50


def headers() -> dict[str, str]:
    """Each simulated user's headers: the ledger answers 401 without the token."""
    return {"Authorization": f"Bearer {TOKEN}"}


def seed(targets: SeedTargets) -> None:
    """Every account the load reads, with an opening balance."""
    assert targets.redis_url, "the ledger's stack has a Redis link"
    client = redis.Redis.from_url(targets.redis_url)
    try:
        client.mset({f"ledger:account:{number}": 100_00 * number for number in range(1, ACCOUNTS + 1)})
    finally:
        client.close()
