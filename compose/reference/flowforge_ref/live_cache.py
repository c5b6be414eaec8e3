"""The in-memory live values WebSocket pushes read from.

One background task refreshes it from Materialize about once a second, so the
Materialize load does not grow with the number of dashboard viewers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType

from .tiers import StoreError

log = logging.getLogger(__name__)

REFRESH_INTERVAL_S = 1.0


class LiveCache:
    def __init__(
        self,
        fetch: Callable[[], Awaitable[dict[int, float]]],
        interval_s: float = REFRESH_INTERVAL_S,
    ) -> None:
        self._fetch = fetch
        self._interval_s = interval_s
        self._values: Mapping[int, float] = MappingProxyType({})
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def values(self) -> Mapping[int, float]:
        return self._values

    def value(self, widget_id: int) -> float | None:
        return self._values.get(widget_id)

    async def refresh_once(self) -> None:
        fresh = await self._fetch()
        # Swap the whole mapping: readers never see a half-updated cache.
        self._values = MappingProxyType(fresh)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="live-cache-refresh")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.refresh_once()
            except StoreError as exc:
                # Keep serving the last values: a dashboard shows stale numbers
                # during an outage rather than none. Log state changes only, so
                # a long outage does not flood the log once a second.
                if not self._failing:
                    log.warning("live cache refresh failing, serving last values: %s", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("live cache refresh recovered")
                self._failing = False
            await asyncio.sleep(max(0.0, self._interval_s - (loop.time() - started)))
