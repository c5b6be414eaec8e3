"""The server-side vantage: what the servers and the host say about each window.

The engine calls ``window_start()`` when a measurement window opens and
``window_end()`` when it closes. Nothing here may stop a run or stall the
engine's step clock: every failure becomes one sentence in the record's
``problems``, every network call has a timeout, and the views are asked side
by side on worker threads, so each call returns within ``timeout_s`` plus a
little grace however many servers hang. A view still busy from a previous
call is skipped (and said so) rather than asked twice at once.

The engine passes loopback addresses of the stores' control proxies
(Toxiproxy proxies that never carry a toxic), so a fault on a link does not
bend the view of the store behind it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any, TypeVar

from harness.vantage.backend_view import BackendView
from harness.vantage.clickhouse_view import ClickHouseView
from harness.vantage.host import CpuTimes, cpu_between, read_cpu_times
from harness.vantage.postgres_view import PostgresView
from harness.vantage.reading import WindowView
from harness.vantage.redis_view import RedisView
from harness.vantage.views import HostCpu, VantageError, VantageRecord

MAX_TIMEOUT_S = 2.0
# Past one network timeout, so a single hung call reports its own error
# (which says more) before the collector gives up on the view.
GRACE_S = 0.25

R = TypeVar("R")


class Vantage:
    """Views of the backend's /metrics and of each store whose address is given."""

    def __init__(self, backend_url: str, redis_url: str | None, materialize_dsn: str | None,
                 clickhouse_url: str | None, timeout_s: float = 2.0) -> None:
        if not 0 < timeout_s <= MAX_TIMEOUT_S:
            raise ValueError(f"timeout_s must be in (0, {MAX_TIMEOUT_S:g}] s, got {timeout_s}")
        self._timeout_s = timeout_s
        views: list[WindowView] = [BackendView(backend_url, timeout_s)]
        if redis_url:
            views.append(RedisView(redis_url, timeout_s))
        if materialize_dsn:
            views.append(PostgresView(materialize_dsn, timeout_s))
        if clickhouse_url:
            views.append(ClickHouseView(clickhouse_url, timeout_s))
        self._views = views
        self._pool = ThreadPoolExecutor(max_workers=len(views), thread_name_prefix="vantage")
        self._busy: dict[str, Future[Any]] = {}
        self._window_open = False
        self._started: list[WindowView] = []
        self._cpu_at_start: CpuTimes | None = None
        self._start_problems: list[str] = []

    def window_start(self) -> None:
        """Snapshot the host and the backend, reset the stores' counters."""
        self._window_open = True
        self._start_problems = []
        self._cpu_at_start = None
        try:
            self._cpu_at_start = read_cpu_times()
        except VantageError as exc:
            self._start_problems.append(str(exc))
        started, problems = self._ask(self._views, "start", lambda view: view.start())
        self._started = [view for view in self._views if view.name in started]
        self._start_problems += [f"{problem.rstrip('.')}; no view for this window" for problem in problems]

    def window_end(self) -> VantageRecord:
        """Everything the servers said about the window since ``window_start()``."""
        if not self._window_open:
            return VantageRecord(host=None, backend={}, stores={},
                                 problems=["vantage: window_end() without window_start(); nothing to compare"])
        self._window_open = False
        problems = list(self._start_problems)
        host = self._host(problems)
        readings, failures = self._ask(self._started, "end", lambda view: view.end())
        problems += failures
        backend, stores = {}, {}
        for view in self._started:
            if view.name in readings:
                reading = readings[view.name]
                (backend if isinstance(view, BackendView) else stores).update(reading.views)
                problems += reading.problems
        return VantageRecord(host=host, backend=backend, stores=stores, problems=problems)

    def close(self) -> None:
        # A view stuck in a call keeps its thread until its timeout; nobody waits for it.
        self._pool.shutdown(wait=False, cancel_futures=True)
        for view in self._views:
            view.close()

    def __enter__(self) -> Vantage:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _host(self, problems: list[str]) -> HostCpu | None:
        if self._cpu_at_start is None:
            return None
        try:
            return cpu_between(self._cpu_at_start, read_cpu_times())
        except VantageError as exc:
            problems.append(str(exc))
            return None

    def _ask(self, views: Sequence[WindowView], phase: str,
             call: Callable[[WindowView], R]) -> tuple[dict[str, R], list[str]]:
        """Each view's answer by name, and a problem (in view order) for each that failed, hung or was busy."""
        futures: dict[str, Future[R]] = {}
        for view in views:
            previous = self._busy.get(view.name)
            if previous is None or previous.done():
                futures[view.name] = self._busy[view.name] = self._pool.submit(call, view)
        done, _ = wait(futures.values(), timeout=self._timeout_s + GRACE_S)
        answers, problems = {}, []
        for view in views:
            future = futures.get(view.name)
            if future is None:
                problems.append(f"{view.name}: still in its previous call; not asked at the window's {phase}")
            elif future not in done:
                problems.append(f"{view.name}: no answer within {self._timeout_s + GRACE_S:g} s at the window's "
                                f"{phase}")
            else:
                try:
                    answers[view.name] = future.result()
                except VantageError as exc:
                    problems.append(str(exc))
        return answers, problems
