"""HTTP and WebSocket endpoints; thin, the work is in the stores."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket
from fastapi.responses import JSONResponse

from .models import Preview, PreviewRequest, WidgetData
from .push import dashboard_widgets, serve_dashboard
from .services import Services

router = APIRouter()

HEALTH_TIMEOUT_S = 1.0
HISTORY_MINUTES = 60


def _services(holder: Request | WebSocket) -> Services:
    return holder.app.state.services


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    failing = await _services(request).failing_tiers(HEALTH_TIMEOUT_S)
    if not failing:
        return JSONResponse({"status": "ok"})
    names = ", ".join(tier.value for tier in failing)
    return JSONResponse(
        {
            "status": "unavailable",
            "detail": f"unavailable: {names}",
            "failing": {tier.value: why for tier, why in failing.items()},
        },
        status_code=503,
    )


@router.get("/api/widgets/{widget_id}/data", response_model=WidgetData)
async def widget_data(widget_id: int, request: Request) -> WidgetData:
    services = _services(request)
    # Sequential on purpose: that is the dashboard's real read path, and it
    # makes a fault on any one link show up in this request's latency.
    config = await services.redis.widget_config(widget_id)
    if config is None:
        raise HTTPException(status_code=404, detail=f"widget {widget_id} not found")
    live = await services.materialize.live_value(widget_id)
    history = await services.clickhouse.widget_history(widget_id, HISTORY_MINUTES)
    return WidgetData(widget_id=widget_id, config=config, live=live, history=history)


@router.post("/api/widgets/preview", response_model=Preview)
async def widget_preview(body: PreviewRequest, request: Request) -> Preview:
    services = _services(request)
    if not 1 <= body.widget_id <= services.settings.widgets:
        raise HTTPException(status_code=404, detail=f"widget {body.widget_id} not found")
    series = await services.clickhouse.preview_series(body.minutes)
    by_widget = await services.clickhouse.preview_by_widget(body.minutes)
    return Preview(widget_id=body.widget_id, minutes=body.minutes, series=series, by_widget=by_widget)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    exporter = request.app.state.metrics
    return Response(exporter.exposition(), media_type=exporter.content_type)


@router.websocket("/ws/dashboards/{dashboard_id}")
async def dashboard_updates(websocket: WebSocket, dashboard_id: int) -> None:
    services = _services(websocket)
    await serve_dashboard(
        websocket,
        dashboard_id,
        dashboard_widgets(dashboard_id, services.settings.widgets),
        services.live_cache,
        services.metrics,
        services.settings.push_interval_s,
    )
