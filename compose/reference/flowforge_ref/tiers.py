"""The datastore tiers and the one error every store raises."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    REDIS = "redis"
    MATERIALIZE = "materialize"
    CLICKHOUSE = "clickhouse"


class StoreError(Exception):
    """A datastore call failed; routes turn it into 503 naming the tier."""

    def __init__(self, tier: Tier, message: str) -> None:
        super().__init__(f"{tier.value} unavailable: {message}")
        self.tier = tier
        self.message = message
