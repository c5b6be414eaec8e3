"""Smoke test of the Docker API the docker backend is tested against.

On machines without Docker Engine and without a registry that API is Podman's
Docker-compatible service (scripts/podman-service.sh) and the only image is
localhost/flowforge-base (scripts/make-base-image.sh): merged-/usr symlinks,
with the host's /usr bind-mounted read-only. This proves, with docker-py, what
the backend relies on: labelled user-defined networks, container names that
resolve on them, ports published on 127.0.0.1 only, logs, health status, and
cleanup by label.

The API comes from DOCKER_HOST, else the script's default socket. With no API
answering the tests skip, unless CI=true: then the script is run, and any
failure is a test failure. The restart test runs only against a service the
script started (its pid file next to the socket) and restarts it with the script.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
import redis
import requests

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICE_SCRIPT = ROOT / "scripts" / "podman-service.sh"
DEFAULT_SOCKET = "/run/flowforge-podman/docker.sock"
BASE_IMAGE = "localhost/flowforge-base:latest"
LABEL = "org.flowforge.harness.test"
USR_RO = docker.types.Mount("/usr", "/usr", type="bind", read_only=True)
REDIS_ARGV = ["/usr/bin/redis-server", "--bind", "0.0.0.0", "--port", "6379",
              "--save", "", "--appendonly", "no", "--protected-mode", "no"]
SECOND_NS = 1_000_000_000


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _unavailable(message: str) -> None:
    if _in_ci():
        pytest.fail(message)
    pytest.skip(message)


def _client(base_url: str) -> docker.DockerClient | None:
    try:
        client = docker.DockerClient(base_url=base_url, timeout=30)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return None
    return client


def _provision() -> str:
    """Run scripts/podman-service.sh; return its DOCKER_HOST or fail with its last words."""
    try:
        done = subprocess.run(["bash", str(SERVICE_SCRIPT)], capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{SERVICE_SCRIPT.name} did not finish in 600 s")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines or not lines[-1].startswith("DOCKER_HOST="):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.fail(f"{SERVICE_SCRIPT.name} exited {done.returncode}: {last}")
    return lines[-1].removeprefix("DOCKER_HOST=")


@pytest.fixture(scope="module")
def api_url() -> str:
    """The Docker API's address: DOCKER_HOST, the script's default socket, or (CI) a fresh service."""
    candidates = [os.environ.get("DOCKER_HOST", ""), f"unix://{DEFAULT_SOCKET}"]
    for url in filter(None, candidates):
        probe = _client(url)
        if probe is not None:
            probe.close()
            return url
    if _in_ci():
        return _provision()
    _unavailable(f"no Docker API at DOCKER_HOST or {DEFAULT_SOCKET}; run scripts/podman-service.sh")
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def client(api_url: str) -> Iterator[docker.DockerClient]:
    found = _client(api_url)
    if found is None:
        pytest.fail(f"no Docker API answers at {api_url}")
    try:
        found.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        _unavailable(f"{BASE_IMAGE} missing; run scripts/make-base-image.sh")
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


def _socket_path(url: str) -> str | None:
    scheme, _, rest = url.partition("://")
    return "/" + rest.lstrip("/") if scheme in {"unix", "http+unix"} else None


def _our_service_pid(socket_path: str) -> int | None:
    """Pid of the podman service scripts/podman-service.sh started on this socket, if any."""
    pid_file = Path(socket_path).parent / "podman-service.pid"
    try:
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if f"system service --time=0 unix://{socket_path}" in cmdline else None


def test_containers_survive_a_service_restart(
    api_url: str, client: docker.DockerClient, run_labels: dict[str, str]
) -> None:
    socket_path = _socket_path(api_url)
    pid = _our_service_pid(socket_path) if socket_path else None
    if socket_path is None or pid is None:
        pytest.skip("the Docker API was not started by scripts/podman-service.sh; not restarting it")

    suffix = run_labels[LABEL].rsplit("-", 1)[-1]
    network = client.networks.create(f"ff-smoke-rs-{suffix}", driver="bridge", labels=run_labels)
    server = _redis(client, f"ff-smoke-rs-redis-{suffix}", network.name, run_labels)
    server.reload()
    host_port = int(server.ports["6379/tcp"][0]["HostPort"])
    from_host = redis.Redis(host="127.0.0.1", port=host_port, socket_timeout=2)
    _eventually(from_host.ping, "redis answering before the restart")

    os.kill(pid, signal.SIGTERM)
    _eventually(lambda: _client(api_url) is None, "API service stopped", 10)
    assert from_host.ping(), "the container stopped with the API service"

    done = subprocess.run(["bash", str(SERVICE_SCRIPT), socket_path], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"DOCKER_HOST=unix://{socket_path}"

    fresh = _client(api_url)
    assert fresh is not None, "no API after the restart"
    try:
        assert fresh.containers.get(server.id).status == "running"
        assert from_host.ping()
    finally:
        from_host.close()
        fresh.close()
