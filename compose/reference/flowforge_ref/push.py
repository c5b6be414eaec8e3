"""Dashboard WebSocket: one push every interval, per connection.

Each connection runs in its own task and only awaits its own socket, so a
slow reader backs up its own sends and nobody else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from fastapi import WebSocket, WebSocketDisconnect

from .live_cache import LiveCache
from .metrics import Metrics
from .models import PushedWidget, PushMessage

log = logging.getLogger(__name__)

WIDGETS_PER_DASHBOARD = 6


def dashboard_widgets(dashboard_id: int, widget_count: int) -> list[int]:
    """The widget ids shown on a dashboard: consecutive ids, wrapping at the last widget."""
    first = (dashboard_id - 1) * WIDGETS_PER_DASHBOARD
    return [(first + k) % widget_count + 1 for k in range(min(WIDGETS_PER_DASHBOARD, widget_count))]


async def serve_dashboard(
    websocket: WebSocket,
    dashboard_id: int,
    widget_ids: list[int],
    cache: LiveCache,
    metrics: Metrics,
    interval_s: float,
) -> None:
    await websocket.accept()
    metrics.ws_connections.inc()
    pusher = asyncio.create_task(_push_loop(websocket, dashboard_id, widget_ids, cache, metrics, interval_s))
    # Reading is how a server learns the client went away; a send-only loop
    # would notice only at its next send, or never if that send blocks.
    listener = asyncio.create_task(_until_client_leaves(websocket))
    try:
        done, _ = await asyncio.wait({pusher, listener}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            _log_unexpected(task)
    finally:
        for task in (pusher, listener):
            task.cancel()
        await asyncio.gather(pusher, listener, return_exceptions=True)
        metrics.ws_connections.dec()


async def _push_loop(
    websocket: WebSocket,
    dashboard_id: int,
    widget_ids: list[int],
    cache: LiveCache,
    metrics: Metrics,
    interval_s: float,
) -> None:
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    seq = 0
    while True:
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        seq += 1
        widgets = [PushedWidget(id=w, value=cache.value(w)) for w in widget_ids]
        message = PushMessage(seq=seq, sent_at=time.time(), dashboard=dashboard_id, widgets=widgets)
        await websocket.send_text(message.model_dump_json())
        metrics.ws_messages_sent.inc()
        # Fixed rate; after a stall (slow client) resume the cadence from now
        # instead of bursting the missed ticks, which would fake low latency.
        next_at = max(next_at + interval_s, loop.time())


async def _until_client_leaves(websocket: WebSocket) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


# Ways a send or receive fails when the peer has gone; not worth a traceback.
_DISCONNECTED = (WebSocketDisconnect, ConnectionError, RuntimeError)


def _log_unexpected(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None and not isinstance(exc, _DISCONNECTED):
            log.error("dashboard websocket task failed", exc_info=exc)
