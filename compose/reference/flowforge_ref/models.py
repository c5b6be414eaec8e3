"""Typed shapes of what the stores hold and what the API returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class WidgetConfig(BaseModel):
    """The JSON cached in Redis under `widget:{id}`."""

    id: int
    title: str
    kind: str
    dashboard_id: int
    refresh_ms: int


class LiveValue(BaseModel):
    """One row of Materialize's `widget_live` view."""

    value: float
    updated_at: datetime


class HistoryMinute(BaseModel):
    minute_ts: int  # unix seconds at the start of the minute
    events: int
    avg_value: float


class WidgetData(BaseModel):
    widget_id: int
    config: WidgetConfig
    live: LiveValue | None  # None: the view has no row for the widget yet
    history: list[HistoryMinute]


class PreviewRequest(BaseModel):
    widget_id: int
    minutes: int = Field(default=60, ge=1, le=1440)


class PreviewMinute(BaseModel):
    minute_ts: int
    events: int
    avg_value: float
    p50_value: float
    p95_value: float
    p99_value: float
    users: int


class PreviewWidget(BaseModel):
    widget_id: int
    events: int
    avg_value: float
    min_value: float
    max_value: float
    p50_value: float
    p95_value: float
    p99_value: float
    users: int


class Preview(BaseModel):
    widget_id: int
    minutes: int
    series: list[PreviewMinute]
    by_widget: list[PreviewWidget]


class PushedWidget(BaseModel):
    id: int
    value: float | None  # None until the live cache has seen the widget


class PushMessage(BaseModel):
    seq: int
    sent_at: float  # time.time() just before the frame is written
    dashboard: int
    widgets: list[PushedWidget]
