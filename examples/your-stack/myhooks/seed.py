"""Seed the stores before the run (never through a toxic: the harness passes the control paths)."""

from __future__ import annotations

import redis

from harness.hooks import SeedTargets


def run(targets: SeedTargets) -> None:
    if targets.redis_url:
        client = redis.Redis.from_url(targets.redis_url)
        client.mset({f"widget:{n}:config": '{"kind": "line"}' for n in range(1, 101)})
        client.close()
