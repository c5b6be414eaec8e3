"""Smoke test of the Docker API the docker backend is tested against.

On machines without Docker Engine and without a registry that API is Podman's
Docker-compatible service (scripts/podman-service.sh) and the only image is
localhost/flowforge-base (scripts/make-base-image.sh): merged-/usr symlinks,
with the host's /usr bind-mounted read-only. This proves, with docker-py, what
the backend relies on: labelled user-defined networks, container names that
resolve on them, ports published on 127.0.0.1 only, logs, health status, and
cleanup by label.

The API comes from the ``docker_host`` fixture (tests/integration/conftest.py):
DOCKER_HOST, else the script's default socket; with none answering a
developer's run skips, while CI provisions Podman with the script and fails if
that fails.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import redis

from tests.integration.conftest import (
    BASE_IMAGE,
    docker_client_at,
    missing,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LABEL = "org.flowforge.harness.test"
USR_RO = docker.types.Mount("/usr", "/usr", type="bind", read_only=True)
REDIS_ARGV = ["/usr/bin/redis-server", "--bind", "0.0.0.0", "--port", "6379",
              "--save", "", "--appendonly", "no", "--protected-mode", "no"]
SECOND_NS = 1_000_000_000


@pytest.fixture(scope="module")
def client(docker_host: str) -> Iterator[docker.DockerClient]:
    found = docker_client_at(docker_host)
    if found is None:
        pytest.fail(f"no Docker API answers at {docker_host}")
    try:
        found.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        missing(f"{BASE_IMAGE} missing; run scripts/make-base-image.sh")
    yield found
    found.close()


@pytest.fixture
def run_labels(client: docker.DockerClient) -> Iterator[dict[str, str]]:
    """Labels unique to one test; whatever carries them is removed afterwards, pass or fail."""
    labels = {LABEL: f"podman-smoke-{uuid.uuid4().hex[:10]}"}
    yield labels
    _remove_labelled(client, labels)


def _selector(labels: dict[str, str]) -> dict[str, list[str]]:
    return {"label": [f"{key}={value}" for key, value in labels.items()]}


def _remove_labelled(client: docker.DockerClient, labels: dict[str, str]) -> None:
    for container in client.containers.list(all=True, filters=_selector(labels)):
        container.remove(force=True, v=True)
    for network in client.networks.list(filters=_selector(labels)):
        network.remove()


def _eventually(check: Callable[[], bool], what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, redis.RedisError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{what} not true after {timeout_s} s")


def _is_podman(client: docker.DockerClient) -> bool:
    components = client.version().get("Components") or []
    return any("podman" in str(part.get("Name", "")).lower() for part in components)


def _redis(client: docker.DockerClient, name: str, network: str, labels: dict[str, str], **extra):
    return client.containers.run(
        BASE_IMAGE, REDIS_ARGV, name=name, detach=True, network=network, labels=labels,
        mounts=[USR_RO], ports={"6379/tcp": ("127.0.0.1", None)}, **extra,
    )


def _non_loopback_ipv4() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent; only picks the outgoing address
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_named_containers_on_a_labelled_network(client: docker.DockerClient, run_labels: dict[str, str]) -> None:
    suffix = run_labels[LABEL].rsplit("-", 1)[-1]
    network = client.networks.create(f"ff-smoke-net-{suffix}", driver="bridge", labels=run_labels)
    assert network.attrs["Labels"] == run_labels

    server_name = f"ff-smoke-redis-{suffix}"
    server = _redis(client, server_name, network.name, run_labels)
    server.reload()
    assert server.labels[LABEL] == run_labels[LABEL]

    # Published on loopback only, on a port the engine picked.
    (binding,) = server.ports["6379/tcp"]
    assert binding["HostIp"] == "127.0.0.1"
    host_port = int(binding["HostPort"])
    from_host = redis.Redis(host="127.0.0.1", port=host_port, socket_timeout=2)
    _eventually(from_host.ping, f"redis on 127.0.0.1:{host_port} answering PING")
    from_host.close()
    outside = _non_loopback_ipv4()
    if outside is not None:
        with pytest.raises(OSError):
            socket.create_connection((outside, host_port), timeout=2).close()

    # A second container reaches the first by its name (aardvark-dns).
    probe = client.containers.run(
        BASE_IMAGE, ["/usr/bin/redis-cli", "-h", server_name, "ping"], name=f"ff-smoke-cli-{suffix}",
        detach=True, network=network.name, labels=run_labels, mounts=[USR_RO],
    )
    assert probe.wait(timeout=30)["StatusCode"] == 0, probe.logs().decode(errors="replace")
    assert probe.logs(stdout=True, stderr=False).strip() == b"PONG"

    assert b"Ready to accept connections" in server.logs()
    assert b"Ready to accept connections" in server.logs(tail=20)

    _remove_labelled(client, run_labels)
    assert client.containers.list(all=True, filters=_selector(run_labels)) == []
    assert client.networks.list(filters=_selector(run_labels)) == []


def test_healthcheck_is_stored_and_reported(client: docker.DockerClient, run_labels: dict[str, str]) -> None:
    suffix = run_labels[LABEL].rsplit("-", 1)[-1]
    network = client.networks.create(f"ff-smoke-hc-{suffix}", driver="bridge", labels=run_labels)
    healthcheck = {"test": ["CMD", "/usr/bin/redis-cli", "ping"], "interval": SECOND_NS // 2,
                   "timeout": 2 * SECOND_NS, "retries": 3, "start_period": 0}
    server = _redis(client, f"ff-smoke-hc-redis-{suffix}", network.name, run_labels, healthcheck=healthcheck)
    server.reload()
    assert server.attrs["Config"]["Healthcheck"]["Test"] == healthcheck["test"]
    assert server.attrs["State"]["Health"]["Status"] in {"starting", "healthy"}

    def healthy() -> bool:
        server.reload()
        if server.attrs["State"]["Health"]["Status"] == "healthy":
            return True
        if _is_podman(client):
            # Podman schedules healthchecks with systemd timers; without systemd
            # they never run by themselves, so run one through the libpod API.
            client.api._get(client.api._url("/libpod/containers/{0}/healthcheck", server.id))
        return False

    _eventually(healthy, "State.Health.Status == healthy")
