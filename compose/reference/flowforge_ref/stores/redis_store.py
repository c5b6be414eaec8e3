"""Redis: the widget config cache (`widget:{id}` → JSON)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ..models import WidgetConfig
from ..tiers import StoreError, Tier
from .timed_call import CallObserver, timed_call

_ERRORS = (RedisError,)


def widget_key(widget_id: int) -> str:
    return f"widget:{widget_id}"


class RedisStore:
    def __init__(self, url: str, observer: CallObserver, timeout_s: float) -> None:
        self._observer = observer
        self._timeout_s = timeout_s
        # The client connects lazily, so the app starts (and /healthz can say
        # "redis") even while Redis or its proxy is down.
        self._client = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)

    async def widget_config(self, widget_id: int) -> WidgetConfig | None:
        async with timed_call(self._observer, Tier.REDIS, "get_widget", self._timeout_s, _ERRORS):
            raw = await self._client.get(widget_key(widget_id))
        if raw is None:
            return None
        try:
            return WidgetConfig.model_validate_json(raw)
        except ValidationError as exc:
            self._observer.count_error(Tier.REDIS)
            raise StoreError(Tier.REDIS, f"{widget_key(widget_id)} holds an invalid config: {exc}") from exc

    async def store_widget_configs(self, configs: Sequence[WidgetConfig]) -> None:
        mapping = {widget_key(c.id): c.model_dump_json() for c in configs}
        async with timed_call(self._observer, Tier.REDIS, "mset_widgets", self._timeout_s, _ERRORS):
            await self._client.mset(mapping)

    async def ping(self, timeout_s: float) -> None:
        async with timed_call(self._observer, Tier.REDIS, "ping", timeout_s, _ERRORS):
            await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()
