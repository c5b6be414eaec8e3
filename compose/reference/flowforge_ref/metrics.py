"""Prometheus metrics of one app instance, on a registry the app owns.

A registry per app (not prometheus-client's global default) lets tests build
several apps in one process without "Duplicated timeseries" errors.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from .tiers import Tier

# Redis answers in tens of microseconds on loopback and its SLO is p99 < 1 ms,
# so the low end needs sub-millisecond resolution; the top end covers
# ClickHouse under bandwidth and latency toxics.
DATASTORE_BUCKETS_S = (
    0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.0075,
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
)


class Metrics:
    """Owns the registry; stores, the live cache and the routes report here."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.datastore_seconds = Histogram(
            "flowforge_datastore_seconds",
            "Duration of one datastore call, as the backend saw it.",
            ["tier", "op"],
            buckets=DATASTORE_BUCKETS_S,
            registry=self.registry,
        )
        self.datastore_errors = Counter(
            "flowforge_datastore_errors_total",
            "Datastore calls that failed or timed out.",
            ["tier"],
            registry=self.registry,
        )
        self.ws_messages_sent = Counter(
            "flowforge_ws_messages_sent_total",
            "Dashboard push messages written to WebSocket clients.",
            registry=self.registry,
        )
        self.ws_connections = Gauge(
            "flowforge_ws_connections",
            "Open dashboard WebSocket connections.",
            registry=self.registry,
        )
        self.http_request_seconds = Histogram(
            "flowforge_http_request_seconds",
            "HTTP request duration by route template.",
            ["route"],
            buckets=DATASTORE_BUCKETS_S,
            registry=self.registry,
        )
        # Pre-create the error series so a scrape shows 0 rather than nothing
        # before the first failure; rate() over a missing series is empty.
        for tier in Tier:
            self.datastore_errors.labels(tier=tier.value)

    def observe_call(self, tier: Tier, op: str, seconds: float) -> None:
        self.datastore_seconds.labels(tier=tier.value, op=op).observe(seconds)

    def count_error(self, tier: Tier) -> None:
        self.datastore_errors.labels(tier=tier.value).inc()

    def observe_request(self, route: str, seconds: float) -> None:
        self.http_request_seconds.labels(route=route).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
