"""The reference backend against real Redis, PostgreSQL and ClickHouse.

The shared ``local_stack`` fixture brings the whole local stack up with the
product's own code (seeded, each store and the WebSocket behind a Toxiproxy
link); these tests check what a dashboard user would see through it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from harness.stack import services
from harness.stack.base import Endpoints
from toxics import ToxiproxyClient

pytestmark = pytest.mark.integration

# The backend's default: LocalStack does not set FF_PUSH_INTERVAL_MS.
PUSH_INTERVAL_MS = 500
TIERS = ("redis", "materialize", "clickhouse")


@pytest.fixture(scope="module")
def endpoints(local_stack: tuple[Endpoints, Path, str]) -> Endpoints:
    return local_stack[0]


@pytest.fixture(scope="module")
def client(endpoints: Endpoints) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=endpoints.backend, timeout=10) as http:
        yield http


def direct_store_env(endpoints: Endpoints) -> dict[str, str]:
    """Store settings that skip the proxies, as the seed inside LocalStack uses them."""
    redis, pg, ch = (endpoints.links[link].upstream for link in TIERS)
    return {
        "FF_REDIS_URL": f"redis://{redis.host}:{redis.port}/0",
        "FF_MATERIALIZE_DSN": f"postgresql://{services.DB_USER}@{pg.host}:{pg.port}/{services.DB_NAME}",
        "FF_CLICKHOUSE_URL": f"http://{ch.host}:{ch.port}",
    }


# --- what a user sees ---------------------------------------------------------


def test_seed_reports_each_store_and_is_safe_to_rerun(
    local_stack: tuple[Endpoints, Path, str], tmp_path: Path
) -> None:
    endpoints, folder, _ = local_stack
    first = (folder / "logs" / "seed.log").read_text().splitlines()
    assert [line.split(":")[0] for line in first] == list(TIERS)
    assert "inserted 1000000 events" in first[2]

    rerun_log = tmp_path / "seed-again.log"
    services.seed(direct_store_env(endpoints), rerun_log, sys.executable)  # raises StackError unless it exits 0

    assert "left as is" in rerun_log.read_text()


def test_healthz_is_ok_with_all_stores_up(client: httpx.Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_widget_data_has_config_live_value_and_history(client: httpx.Client) -> None:
    response = client.get("/api/widgets/7/data")

    assert response.status_code == 200
    body = response.json()
    assert body["config"]["id"] == 7
    assert isinstance(body["live"]["value"], float)
    assert body["live"]["updated_at"]
    assert body["history"], "the seed spreads events over the last 24 h, so the last hour has some"
    minutes = [point["minute_ts"] for point in body["history"]]
    assert minutes == sorted(minutes)
    assert time.time() - minutes[0] <= 61 * 60
    assert all(point["events"] > 0 for point in body["history"])


def test_unknown_widget_is_404(client: httpx.Client) -> None:
    response = client.get("/api/widgets/100000/data")

    assert response.status_code == 404
    assert "100000" in response.json()["detail"]


def test_preview_returns_a_much_larger_aggregate(client: httpx.Client) -> None:
    widget = client.get("/api/widgets/3/data")
    preview = client.post("/api/widgets/preview", json={"widget_id": 3, "minutes": 60})

    assert preview.status_code == 200
    body = preview.json()
    assert len(preview.content) > 10_000
    assert len(preview.content) > 5 * len(widget.content)
    assert len(body["by_widget"]) == 100
    assert 55 <= len(body["series"]) <= 61


def test_preview_rejects_a_window_out_of_range(client: httpx.Client) -> None:
    response = client.post("/api/widgets/preview", json={"widget_id": 3, "minutes": 5000})

    assert response.status_code == 422


def test_metrics_count_datastore_calls_per_tier(client: httpx.Client) -> None:
    client.get("/api/widgets/1/data")
    client.post("/api/widgets/preview", json={"widget_id": 1})

    text = client.get("/metrics").text

    for tier in TIERS:
        counts = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                  if line.startswith("flowforge_datastore_seconds_count{") and f'tier="{tier}"' in line]
        assert counts and sum(counts) > 0, f"no timed {tier} calls in /metrics"
        assert f'flowforge_datastore_errors_total{{tier="{tier}"}}' in text
    assert 'le="0.0001"' in text and 'le="0.00025"' in text
    assert 'flowforge_http_request_seconds_count{route="/api/widgets/{widget_id}/data"}' in text
    assert "flowforge_ws_connections" in text


def test_websocket_pushes_in_sequence_with_fresh_timestamps(endpoints: Endpoints, client: httpx.Client) -> None:
    url = endpoints.websocket_url + "/ws/dashboards/2"  # through the websocket proxy
    with ws_connect(url, open_timeout=5) as ws:
        messages = [json.loads(ws.recv(timeout=5)) for _ in range(8)]
        received_at = time.time()

    assert [m["seq"] for m in messages] == list(range(1, 9))
    assert all(m["dashboard"] == 2 for m in messages)
    assert abs(received_at - messages[-1]["sent_at"]) < 2.0
    sent = [m["sent_at"] for m in messages]
    assert sent == sorted(sent)
    # Eight pushes at the configured interval: the first goes at once.
    assert sent[-1] - sent[0] >= 7 * PUSH_INTERVAL_MS / 1000 * 0.8
    widgets = messages[-1]["widgets"]
    assert [w["id"] for w in widgets] == [7, 8, 9, 10, 11, 12]
    assert all(isinstance(w["value"], float) for w in widgets), "the live cache should be filled by now"
    text = client.get("/metrics").text
    assert "flowforge_ws_messages_sent_total 0.0" not in text


def test_healthz_names_redis_while_its_link_is_down(endpoints: Endpoints, client: httpx.Client) -> None:
    # A link down and up through the real Toxiproxy, as the harness does it.
    with ToxiproxyClient(endpoints.toxiproxy_api) as toxiproxy:
        toxiproxy.set_enabled("redis", False)
        try:
            health = client.get("/healthz")
            widget = client.get("/api/widgets/1/data")
        finally:
            toxiproxy.set_enabled("redis", True)

    assert health.status_code == 503
    assert "redis" in health.json()["detail"]
    assert set(health.json()["failing"]) == {"redis"}
    assert widget.status_code == 503
    assert widget.json()["detail"].startswith("redis unavailable:")

    recovered = client.get("/healthz")
    assert recovered.status_code == 200
    assert recovered.json() == {"status": "ok"}
