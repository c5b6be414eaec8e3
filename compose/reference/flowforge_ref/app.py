"""The FastAPI app factory, and the module-level `app` uvicorn imports.

`app` reads its settings from the environment at startup (lifespan), not at
import, so importing the module never fails and tests build their own apps
with `create_app(settings)`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .metrics import Metrics
from .routes import router
from .services import Services
from .settings import Settings
from .tiers import StoreError


def create_app(settings: Settings | None = None) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.open(settings or Settings.from_env(), metrics)
        app.state.services = services
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="FlowForge reference backend", lifespan=lifespan)
    app.state.metrics = metrics
    app.include_router(router)
    app.add_exception_handler(StoreError, _store_unavailable)
    app.add_middleware(RequestTimer, metrics=metrics)
    return app


async def _store_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


class RequestTimer:
    """Times HTTP requests by route template (`/api/widgets/{widget_id}/data`).

    A plain ASGI middleware rather than BaseHTTPMiddleware, whose extra task
    and body streaming per request would add to the latencies being measured.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        start = time.perf_counter()
        try:
            await self._app(scope, receive, send)
        finally:
            # The router writes the matched route into this same scope dict;
            # the template keeps label cardinality bounded, unlike raw paths.
            route = scope.get("route")
            self._metrics.observe_request(getattr(route, "path", "unmatched"), time.perf_counter() - start)


app = create_app()
