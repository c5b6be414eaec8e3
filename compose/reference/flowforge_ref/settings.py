"""Backend configuration, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(Exception):
    """A configuration variable is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Settings:
    redis_url: str
    materialize_dsn: str
    clickhouse_url: str
    push_interval_ms: int = 500
    widgets: int = 100
    # Every datastore call is bounded so a Toxiproxy `timeout` toxic turns
    # into a counted 503 instead of a request that hangs until the client gives up.
    store_timeout_ms: int = 5000

    @property
    def push_interval_s(self) -> float:
        return self.push_interval_ms / 1000

    @property
    def store_timeout_s(self) -> float:
        return self.store_timeout_ms / 1000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            redis_url=_required(env, "FF_REDIS_URL"),
            materialize_dsn=_required(env, "FF_MATERIALIZE_DSN"),
            clickhouse_url=_required(env, "FF_CLICKHOUSE_URL").rstrip("/"),
            push_interval_ms=_positive_int(env, "FF_PUSH_INTERVAL_MS", 500),
            widgets=_positive_int(env, "FF_WIDGETS", 100),
            store_timeout_ms=_positive_int(env, "FF_STORE_TIMEOUT_MS", 5000),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"environment variable {name} is required but not set")
    return value


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"environment variable {name} must be positive, got {value}")
    return value
