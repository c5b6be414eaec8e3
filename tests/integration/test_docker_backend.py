"""The docker backend against a real Docker API (Podman's, in CI) with compose/offline.yaml.

Without a registry every service runs the host's binaries in the local base
image; the harness still reads the compose files, creates the network,
containers and volumes through docker-py, labels and removes them.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pg8000.native
import pytest
import redis
import websocket

from harness.stack.docker import RUN_LABEL
from harness.stack.select import make_stack
from tests.integration.conftest import (
    client_with_base_image,
    new_run_id,
)
from tests.integration.shortrun import (
    assert_clickhouse_degrades,
    events,
    start_harness,
    summary_of,
    wait_for_event,
    write_spec,
)
from tests.integration.watching import (
    BOTH_UP,
    finished,
    gone,
    harness_run,
    in_step,
    query,
    require_prometheus,
    targets,
    wait_until,
)

pytestmark = pytest.mark.integration

SERVICES = {"toxiproxy", "redis", "materialize", "clickhouse", "seed", "backend"}


@pytest.fixture(scope="module")
def docker_env(docker_host: str) -> Iterator[docker.DockerClient]:
    """DOCKER_HOST set for the harness (in-process and in subprocesses), base image present."""
    client = client_with_base_image(docker_host)
    previous = os.environ.get("DOCKER_HOST")
    os.environ["DOCKER_HOST"] = docker_host
    yield client
    if previous is None:
        os.environ.pop("DOCKER_HOST", None)
    else:
        os.environ["DOCKER_HOST"] = previous
    client.close()


def _labelled(client: docker.DockerClient, run_id: str) -> list[str]:
    selector = {"label": f"{RUN_LABEL}={run_id}"}
    return ([f"container {c.name}" for c in client.containers.list(all=True, filters=selector)]
            + [f"network {n.name}" for n in client.networks.list(filters=selector)]
            + [f"volume {v.name}" for v in client.volumes.list(filters=selector)])


def test_offline_stack_answers_through_every_link_and_leaves_nothing(
    docker_env: docker.DockerClient, tmp_path: Path
) -> None:
    run_id = new_run_id("docker")
    with make_stack("docker", tmp_path, run_id, offline=True) as endpoints:
        containers = docker_env.containers.list(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})
        names = {c.labels["com.flowforge.harness.service"] for c in containers}
        assert names == SERVICES
        for container in containers:
            for bindings in (container.ports or {}).values():
                assert all(b["HostIp"] == "127.0.0.1" for b in bindings or []), container.name
        # Only Toxiproxy and the backend face the host; the stores sit behind the proxies.
        published = {c.labels["com.flowforge.harness.service"] for c in containers if c.ports}
        assert published == {"toxiproxy", "backend"}

        assert {link.upstream.host for link in endpoints.links.values()} == {
            "redis", "materialize", "clickhouse", "backend"}
        assert redis.Redis.from_url(endpoints.redis_url, socket_timeout=5).get("widget:1")
        dsn = endpoints.materialize_dsn.removeprefix("postgresql://")
        user, _, rest = dsn.partition("@")
        hostport, _, database = rest.partition("/")
        host, _, port = hostport.partition(":")
        conn = pg8000.native.Connection(user=user, host=host, port=int(port), database=database, timeout=10)
        assert conn.run("SELECT count(*) FROM widget_live")[0][0] > 0
        conn.close()
        events_count = httpx.post(endpoints.clickhouse_url, content="SELECT count() FROM events", timeout=10)
        assert int(events_count.text) >= 1_000_000
        data = httpx.get(f"{endpoints.backend}/api/widgets/1/data", timeout=10)
        assert data.status_code == 200
        sock = websocket.create_connection(f"{endpoints.websocket_url}/ws/dashboards/1", timeout=10)
        message = json.loads(sock.recv())
        sock.close()
        assert message["seq"] == 1 and "sent_at" in message
    assert _labelled(docker_env, run_id) == []
    for service in SERVICES:
        assert (tmp_path / "logs" / f"{service}.log").exists(), service


def test_short_experiment_on_docker_degrades_clickhouse(docker_env: docker.DockerClient, tmp_path: Path) -> None:
    """With --observe as well: Debian's Prometheus on the host scrapes the backend's port, published on
    127.0.0.1 like every other (one run for both: each costs a stack of containers)."""
    require_prometheus()
    with harness_run(tmp_path, "--backend", "docker", "--offline", "--observe", "--linger", "0") as (process,
                                                                                                    results):
        folder = in_step(process, results, 2, 600)
        url = next(e["url"] for e in events(folder) if e["event"] == "prometheus")
        assert wait_until(lambda: targets(url) == BOTH_UP), targets(url)
        assert wait_until(lambda: query(url, "sum(flowforge_datastore_seconds_count) > 0"))
        finished(process)
    gone(f"{url}/-/ready")
    assert_clickhouse_degrades(summary_of(folder), backend="docker")
    assert _labelled(docker_env, folder.name) == []


def test_a_run_after_a_killed_run_removes_its_containers(docker_env: docker.DockerClient, tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    first_results, second_results = tmp_path / "first", tmp_path / "second"
    first = start_harness(spec, first_results, "--backend", "docker", "--offline")
    try:
        first_folder = wait_for_event(first, first_results, lambda e: e["event"] == "stack-up")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert _labelled(docker_env, first_folder.name), "the killed run should have left containers"

    second = start_harness(spec, second_results, "--backend", "docker", "--offline")
    try:
        second_folder = wait_for_event(second, second_results, lambda e: e["event"] == "stack-up")
        removed = next(e for e in events(second_folder) if e["event"] == "leftovers-removed")["removed"]
        assert any(first_folder.name in item and item.startswith("container") for item in removed), removed
        assert _labelled(docker_env, first_folder.name) == []
        second.send_signal(signal.SIGINT)
        second.communicate(timeout=120)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 130
    assert _labelled(docker_env, second_folder.name) == []
