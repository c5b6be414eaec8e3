"""The server-side vantage against real Redis, PostgreSQL and ClickHouse, started by the product's stack code.

Each store is started as the local backend starts it (so its vantage
settings are the product's: Redis latency tracking, pg_stat_statements,
ClickHouse's query log) and holds a small table of its own; the backend is a
real prometheus-client exposition of the reference backend's own metrics.
"""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pg8000.native
import pytest
import redis
from prometheus_client import start_http_server

from harness.stack import services
from harness.stack.ports import LOOPBACK, free_port
from harness.stack.services import Service
from harness.vantage import Vantage, VantageRecord
from tests.integration.conftest import new_run_id, require_local_stack_programs, running

sys.path.insert(0, str(services.REFERENCE_DIR))
from flowforge_ref.metrics import Metrics  # noqa: E402
from flowforge_ref.tiers import Tier  # noqa: E402

pytestmark = pytest.mark.integration

GETS, LIVE_READS, EVENT_QUERIES = 300, 20, 5


# -- the stores, each with the little data the window reads ---------------------


@pytest.fixture(scope="module")
def redis_url(redis_service: Service) -> str:
    host, port = redis_service.address
    client = redis.Redis(host=host, port=port)
    client.set("widget:1", '{"id": 1}')
    client.close()
    return f"redis://{host}:{port}/0"


@pytest.fixture(scope="module")
def materialize_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_local_stack_programs()
    starting = running(services.postgres, tmp_path_factory.mktemp("postgres"))
    service = next(starting)
    try:
        port = service.address[1]
        services.create_database(port, service.process.log_path, new_run_id())
        with _postgres(port) as connection:
            connection.run("CREATE TABLE widget_live (widget_id int, value double precision, updated_at timestamptz)")
            connection.run("INSERT INTO widget_live VALUES (1, 0.5, now()), (2, 1.5, now())")
        yield f"postgresql://{services.DB_USER}@{LOOPBACK}:{port}/{services.DB_NAME}"
    finally:
        starting.close()  # stops the server
        if service.scratch is not None:
            shutil.rmtree(service.scratch, ignore_errors=True)


@pytest.fixture(scope="module")
def clickhouse_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_local_stack_programs()
    for service in running(services.clickhouse, tmp_path_factory.mktemp("clickhouse")):
        url = f"http://{LOOPBACK}:{service.address[1]}"
        _clickhouse(url, "CREATE TABLE events (ts DateTime, widget_id UInt32, value Float64) "
                         "ENGINE = MergeTree ORDER BY (widget_id, ts)")
        _clickhouse(url, "INSERT INTO events SELECT now() - number, number % 10, number / 7 FROM system.numbers "
                         "LIMIT 10000")
        yield url


@pytest.fixture(scope="module")
def backend_url() -> Iterator[tuple[str, Metrics]]:
    """The reference backend's own metrics, served by prometheus-client's own HTTP server."""
    metrics = Metrics()
    port = free_port()
    server, thread = start_http_server(port, addr=LOOPBACK, registry=metrics.registry)
    yield f"http://{LOOPBACK}:{port}", metrics
    server.shutdown()
    server.server_close()
    thread.join(5)


def _postgres(port: int) -> pg8000.native.Connection:
    return pg8000.native.Connection(user=services.DB_USER, host=LOOPBACK, port=port, database=services.DB_NAME,
                                    timeout=5)


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def _clickhouse(url: str, sql: str) -> str:
    response = httpx.post(url, content=sql, timeout=10)
    response.raise_for_status()
    return response.text


# -- what the vantage sees --------------------------------------------------------


def test_a_window_shows_each_servers_own_account_of_its_calls(
    backend_url: tuple[str, Metrics], redis_url: str, materialize_dsn: str, clickhouse_url: str
) -> None:
    url, metrics = backend_url
    client = redis.Redis.from_url(redis_url)
    client.get("widget:1")  # before the window: must not count
    with Vantage(url, redis_url, materialize_dsn, clickhouse_url) as vantage, \
            _postgres(_port(materialize_dsn)) as postgres:
        vantage.window_start()
        for _ in range(GETS):
            client.get("widget:1")
        for widget_id in range(LIVE_READS):
            # the backend's parametrised read and the probes' literal one
            if widget_id % 2:
                postgres.run("SELECT value, updated_at FROM widget_live WHERE widget_id = :id", id=widget_id)
            else:
                postgres.run(f"SELECT value FROM widget_live WHERE widget_id = {widget_id}")
        for widget_id in range(EVENT_QUERIES):
            _clickhouse(clickhouse_url, f"SELECT count(), avg(value) FROM events WHERE widget_id = {widget_id}")
        for seconds in (0.0002, 0.0003, 0.0004, 0.0006):
            metrics.observe_call(Tier.REDIS, "get_widget", seconds)
        metrics.observe_call(Tier.CLICKHOUSE, "history", 0.3)
        record = vantage.window_end()
    client.close()

    assert record.problems == []
    redis_view = record.stores["redis"]
    assert redis_view.count == GETS
    assert redis_view.p99_ms is not None and redis_view.p99_ms < 0.5  # server-internal: microseconds
    assert redis_view.holds(99, 1.0) is True

    live = record.stores["materialize"]
    assert live.count == LIVE_READS
    assert live.mean_ms is not None and 0 < live.mean_ms <= (live.max_ms or 0)
    assert live.p99_ms is None and "no percentiles" in live.source

    events = record.stores["clickhouse"]
    assert events.count == EVENT_QUERIES  # the window's queries, not the setup's nor the vantage's own
    assert events.max_ms is not None and events.p99_ms is not None and events.mean_ms is not None
    assert events.p50_ms is not None and events.p50_ms <= events.p99_ms <= events.max_ms

    assert record.backend["redis"].count == 4
    assert record.backend["redis"].p99_ms is not None and 0.5 < record.backend["redis"].p99_ms <= 0.75
    assert record.backend["clickhouse"].count == 1

    assert record.host is not None and record.host.cores >= 1
    assert 0 <= record.host.busy_percent <= 100


def test_consecutive_windows_share_no_call(backend_url: tuple[str, Metrics], redis_url: str, materialize_dsn: str,
                                           clickhouse_url: str) -> None:
    """Back to back, most likely inside one second: ClickHouse's whole-second log must still split them."""
    client = redis.Redis.from_url(redis_url)
    counts = []
    with Vantage(backend_url[0], redis_url, materialize_dsn, clickhouse_url) as vantage, \
            _postgres(_port(materialize_dsn)) as postgres:
        for calls in (3, 2, 0):
            vantage.window_start()
            for _ in range(calls):
                client.get("widget:1")
                postgres.run("SELECT value FROM widget_live WHERE widget_id = 1")
                _clickhouse(clickhouse_url, "SELECT count() FROM events WHERE widget_id = 1")
            record = vantage.window_end()
            assert record.problems == []
            counts.append({tier: view.count for tier, view in record.stores.items()})
    client.close()
    assert counts == [{"redis": calls, "materialize": calls, "clickhouse": calls} for calls in (3, 2, 0)]


def test_a_stopped_server_is_a_problem_naming_it(tmp_path: Path) -> None:
    for stopped in running(services.redis, tmp_path):  # started, ready, stopped
        stopped_port = stopped.address[1]
    nothing = f"{LOOPBACK}:{free_port()}"  # nothing listens here
    with Vantage(f"http://{nothing}", f"redis://{LOOPBACK}:{stopped_port}/0",
                 f"postgresql://flowforge@{nothing}/flowforge", f"http://{nothing}") as vantage:
        vantage.window_start()
        record = vantage.window_end()
    assert (record.backend, record.stores) == ({}, {})
    assert record.host is not None
    assert [problem.split(" ")[0] for problem in record.problems] == [
        "backend", "redis", "materialize", "clickhouse",
    ]
    assert all(problem.endswith("no view for this window") for problem in record.problems)
    assert record.problems[1].startswith(f"redis at {LOOPBACK}:{stopped_port}: CONFIG RESETSTAT failed: ")


def test_a_hung_server_costs_the_window_at_most_its_timeout() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind((LOOPBACK, 0))
        silent.listen(16)
        hung = f"{LOOPBACK}:{silent.getsockname()[1]}"
        with Vantage(f"http://{hung}", f"redis://{hung}/0", f"postgresql://flowforge@{hung}/flowforge",
                     f"http://{hung}", timeout_s=0.5) as vantage:
            started = time.monotonic()
            vantage.window_start()
            record: VantageRecord = vantage.window_end()
            elapsed = time.monotonic() - started
    assert elapsed < 2 * (0.5 + 0.25) + 0.3  # two calls, each bounded by timeout and grace
    assert [problem.split(" ")[0] for problem in record.problems] == [
        "backend", "redis", "materialize", "clickhouse",
    ]
    assert all("timed out" in problem or "Timeout" in problem for problem in record.problems), record.problems
