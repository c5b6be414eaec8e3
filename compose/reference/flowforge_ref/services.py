"""Everything one running app holds open, created and closed together."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from .live_cache import LiveCache
from .metrics import Metrics
from .settings import Settings
from .stores import ClickHouseStore, MaterializeStore, RedisStore
from .tiers import StoreError, Tier


@dataclass
class Services:
    settings: Settings
    metrics: Metrics
    redis: RedisStore
    materialize: MaterializeStore
    clickhouse: ClickHouseStore
    live_cache: LiveCache

    @classmethod
    async def open(cls, settings: Settings, metrics: Metrics) -> Services:
        timeout_s = settings.store_timeout_s
        redis = RedisStore(settings.redis_url, metrics, timeout_s)
        clickhouse = ClickHouseStore(settings.clickhouse_url, metrics, timeout_s)
        materialize = MaterializeStore(settings.materialize_dsn, metrics, timeout_s)
        try:
            await materialize.open()
        except BaseException:
            await asyncio.gather(redis.close(), clickhouse.close(), return_exceptions=True)
            raise
        services = cls(settings, metrics, redis, materialize, clickhouse, LiveCache(materialize.all_live_values))
        services.live_cache.start()
        return services

    async def close(self) -> None:
        await self.live_cache.stop()
        await asyncio.gather(
            self.redis.close(), self.materialize.close(), self.clickhouse.close(), return_exceptions=True
        )

    async def failing_tiers(self, timeout_s: float) -> dict[Tier, str]:
        """Ping every store at once; returns the tiers that did not answer, with why."""
        tiers = (Tier.REDIS, Tier.MATERIALIZE, Tier.CLICKHOUSE)
        results = await asyncio.gather(
            self.redis.ping(timeout_s),
            self.materialize.ping(timeout_s),
            self.clickhouse.ping(timeout_s),
            return_exceptions=True,
        )
        failing: dict[Tier, str] = {}
        for tier, result in zip(tiers, results, strict=True):
            if isinstance(result, StoreError):
                failing[tier] = result.message
            elif isinstance(result, BaseException):
                raise result
        return failing
