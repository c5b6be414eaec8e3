"""The harness's own /metrics: Prometheus text of the run, as an observer of its event stream.

prometheus-client serves it on 127.0.0.1 from a registry of its own (never
the process-global one), through one custom collector that reads the run's
state under a lock: the event stream writes it in the main thread, scrapes
read it in the server's.

Series (every name starts ``flowforge_``):

    tier_latency_seconds{tier,path}   histogram since the run began, path faulted | control;
                                      HDR counts added per snapshot (harness.metrics.buckets)
    tier_errors_total{tier,path}      failed calls since the run began
                                      (both stamped with the plan time they are complete up to)
    slo_ok{tier}                      1 if the last live window's point percentiles and error
                                      ratio are below the SLO's bounds, else 0 (no series: no data)
    slo_bound_seconds{tier,quantile}  each latency bound, for a dashboard's SLO line
    step, users                       the step running and its planned users
    users_running                     the users Locust ran at its last snapshot
    toxic_active{link,type}           active toxics of that type on that link (0 once removed)
    run_info{experiment,backend,run_id}
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import start_http_server
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from harness.contract import CONTROL, FAULTED, StepLine
from harness.errors import SpecError
from harness.events import Event, LiveWindow, RunStarted, ToxicsApplied, ToxicsCleared
from harness.histogram import decode
from harness.interrupts import Interrupted, interrupt_guard
from harness.metrics.buckets import CumulativeBuckets, bounds_with, format_bound
from harness.slo import point_holds
from harness.spec import TierSlo
from harness.stack.ports import LOOPBACK
from toxics.schedule import ToxicState

PREFIX = "flowforge_"


class RunMetrics(Collector):
    """The run's state as metric families, updated from events."""

    def __init__(self, slos: dict[str, TierSlo]) -> None:
        self.slos = slos
        self.bounds_s = bounds_with(bound / 1000.0 for slo in slos.values() for bound in slo.bounds().values())
        self._lock = threading.Lock()
        self._latency: dict[tuple[str, str], CumulativeBuckets] = {}
        self._errors: dict[tuple[str, str], int] = defaultdict(int)
        self._slo_ok: dict[str, bool] = {}
        self._toxics: dict[tuple[str, str], int] = {}
        self._step: int | None = None
        self._users: int | None = None
        self._users_running: int | None = None
        self._info: dict[str, str] | None = None
        # The counts are complete up to this wall time (a cut every load process shares), and are
        # exposed stamped with it: Prometheus then holds them at the very edges of each step's window.
        self._until: float | None = None

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, RunStarted):
                self._info = {"experiment": event.experiment, "backend": event.backend, "run_id": event.run_id}
            elif isinstance(event, ToxicsApplied):
                self._step, self._users = event.step, event.users
                self._set_toxics(event.active)
            elif isinstance(event, ToxicsCleared):
                self._set_toxics([])
            elif isinstance(event, LiveWindow):
                self._live(event)

    def _set_toxics(self, active: list[ToxicState]) -> None:
        self._toxics = dict.fromkeys(self._toxics, 0)
        for toxic in active:
            key = (str(toxic.link), toxic.type)
            self._toxics[key] = self._toxics.get(key, 0) + 1

    def _live(self, event: LiveWindow) -> None:
        if event.fresh is not None:
            self._add(event.fresh)
        if event.fresh_until is not None:
            self._until = event.fresh_until
        if event.measured is not None and event.measured.users is not None:
            self._users_running = event.measured.users
        for tier, slo in self.slos.items():
            ok = point_holds(slo, event.results.get(tier))
            if ok is None:
                self._slo_ok.pop(tier, None)
            else:
                self._slo_ok[tier] = ok

    def _add(self, line: StepLine) -> None:
        for tier, series in line.tiers.items():
            for path, part in ((FAULTED, series.faulted), (CONTROL, series.control)):
                if part is None:
                    continue
                if part.hdr:
                    buckets = self._latency.get((tier, path))
                    if buckets is None:
                        buckets = self._latency[(tier, path)] = CumulativeBuckets(self.bounds_s)
                    buckets.add(decode(part.hdr))
                if part.errors:
                    self._errors[(tier, path)] += part.errors

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            yield from self._collect()

    def _collect(self) -> Iterator[Metric]:
        latency = HistogramMetricFamily(f"{PREFIX}tier_latency_seconds",
                                        "Latency per tier and path since the run began (HDR, exact counts)",
                                        labels=["tier", "path"])
        for (tier, path), buckets in sorted(self._latency.items()):
            latency.add_metric([tier, path], [(format_bound(b), c) for b, c in buckets.cumulative()],
                               sum_value=buckets.sum_s, timestamp=self._until)
        yield latency
        errors = CounterMetricFamily(f"{PREFIX}tier_errors", "Failed calls per tier and path since the run began",
                                     labels=["tier", "path"])
        for (tier, path), count in sorted(self._errors.items()):
            errors.add_metric([tier, path], count, timestamp=self._until)
        yield errors
        ok = GaugeMetricFamily(f"{PREFIX}slo_ok", "1 if the last live window holds the tier's SLO bounds, else 0",
                               labels=["tier"])
        for tier, holds in sorted(self._slo_ok.items()):
            ok.add_metric([tier], 1.0 if holds else 0.0)
        yield ok
        bound = GaugeMetricFamily(f"{PREFIX}slo_bound_seconds", "Each latency SLO bound",
                                  labels=["tier", "quantile"])
        for tier, slo in sorted(self.slos.items()):
            for percentile, bound_ms in slo.bounds().items():
                bound.add_metric([tier, f"{percentile / 100:g}"], bound_ms / 1000.0)
        yield bound
        for name, value, text in ((f"{PREFIX}step", self._step, "The step running (1-based)"),
                                  (f"{PREFIX}users", self._users, "The running step's planned users"),
                                  (f"{PREFIX}users_running", self._users_running,
                                   "Users Locust ran at its last live snapshot")):
            if value is not None:
                yield GaugeMetricFamily(name, text, value=float(value))
        toxics = GaugeMetricFamily(f"{PREFIX}toxic_active", "Active toxics of a type on a link (0 once removed)",
                                   labels=["link", "type"])
        for (link, kind), count in sorted(self._toxics.items()):
            toxics.add_metric([link, kind], float(count))
        yield toxics
        if self._info is not None:
            info = InfoMetricFamily(f"{PREFIX}run", "The run being measured")
            info.add_metric([], self._info)
            yield info


class MetricsExporter:
    """Serves RunMetrics on 127.0.0.1 (``port`` 0: a free one) until ``close``; an observer of the run."""

    def __init__(self, slos: dict[str, TierSlo], port: int = 0, host: str = LOOPBACK) -> None:
        self.metrics = RunMetrics(slos)
        self.host = host
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> MetricsExporter:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(self.metrics)
        try:
            self._server, self._thread = start_http_server(self.port, addr=self.host, registry=registry)
        except OSError as exc:
            raise SpecError(f"--metrics-port {self.port}: cannot listen on {self.host} ({exc.strerror})") from exc
        self.port = int(self._server.server_address[1])
        return self

    def __call__(self, event: Event) -> None:
        self.metrics(event)

    def linger(self, seconds: float) -> None:
        """Stay up for a final scrape; Ctrl-C, SIGTERM or SIGHUP end the wait, not the process."""
        if self._server is None or seconds <= 0:
            return
        with interrupt_guard():
            try:
                time.sleep(seconds)
            except Interrupted:
                pass

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> MetricsExporter:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()
