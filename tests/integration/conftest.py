"""Shared fixtures for integration tests: real services, started by the product's own stack code.

Nothing here fakes a service. When a program is missing, a developer's run
skips with what to install; in CI (CI=true) the test fails loudly instead.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import docker
import docker.errors
import pytest
import requests

from harness.errors import StackError
from harness.stack import binaries, services
from harness.stack.base import Endpoints
from harness.stack.local import LocalStack
from harness.stack.readiness import wait_ready
from harness.stack.services import Service

if TYPE_CHECKING:
    from tests.integration.watched_run import WatchedRun

IN_CI = os.environ.get("CI") == "true"
ROOT = Path(__file__).resolve().parents[2]
SERVICE_SCRIPT = ROOT / "scripts" / "podman-service.sh"
DEFAULT_SOCKET = "/run/flowforge-podman/docker.sock"
BASE_IMAGE = "localhost/flowforge-base:latest"


def missing(reason: str) -> NoReturn:
    """Fail in CI, skip elsewhere: nothing that needs a service may skip in CI."""
    message = f"{reason} (run `make setup`)"
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_local_stack_programs() -> None:
    try:
        binaries.toxiproxy_server()
        binaries.debian_program("redis-server", "redis-server")
        binaries.debian_program("clickhouse-server", "clickhouse-server")
        binaries.postgres_bin_dir()
    except StackError as exc:
        missing(str(exc))


def new_run_id(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def running(make: Callable[[Path, str], Service], folder: Path) -> Iterator[Service]:
    """One real service of the local stack, ready, stopped afterwards; missing programs reported."""
    try:
        service = make(folder, new_run_id())
    except StackError as exc:
        missing(str(exc))
    service.process.start()
    try:
        wait_ready(service.name, service.check, service.ready_timeout_s, service.process)
        yield service
    finally:
        service.process.stop()


@pytest.fixture(scope="module")
def toxiproxy_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from running(services.toxiproxy, tmp_path_factory.mktemp("toxiproxy"))


@pytest.fixture(scope="module")
def toxiproxy_url(toxiproxy_service: Service) -> str:
    host, port = toxiproxy_service.address
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from running(services.redis, tmp_path_factory.mktemp("redis"))


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoints, Path, str]]:
    """The whole local stack (Toxiproxy, Redis, PostgreSQL, ClickHouse, seeded, backend)."""
    require_local_stack_programs()
    folder = tmp_path_factory.mktemp("stack")
    run_id = new_run_id("stack")
    with LocalStack(folder, run_id) as endpoints:
        yield endpoints, folder, run_id


@pytest.fixture(scope="session")
def watched_short_run(tmp_path_factory: pytest.TempPathFactory) -> WatchedRun:
    """One real short run on the local stack, watched from outside; shared by the tests that read it."""
    from tests.integration.watched_run import watch_short_run

    return watch_short_run(tmp_path_factory.mktemp("watched"))


def docker_client_at(base_url: str) -> docker.DockerClient | None:
    try:
        client = docker.DockerClient(base_url=base_url, timeout=60)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException, OSError):
        return None
    return client


def _provision_podman() -> str:
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


def client_with_base_image(docker_host: str) -> docker.DockerClient:
    """A client of the Docker API at ``docker_host``, the local base image built if missing (offline runs
    and the test apps' images start FROM it)."""
    require_local_stack_programs()  # offline containers run the host's binaries
    client = docker_client_at(docker_host)
    if client is None:
        pytest.fail(f"no Docker API answers at {docker_host}")
    try:
        client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        built = subprocess.run(["bash", str(ROOT / "scripts" / "make-base-image.sh")], capture_output=True,
                               text=True, env={**os.environ, "DOCKER_HOST": docker_host})
        if built.returncode != 0:
            missing(f"{BASE_IMAGE} could not be made: {built.stderr.strip()[-300:]}")
    return client


@pytest.fixture(scope="session")
def docker_host() -> str:
    """A Docker API: DOCKER_HOST, the podman script's socket, or (CI) a freshly provisioned Podman.

    Without one, a developer's run skips; CI provisions Podman and fails if it cannot.
    """
    for url in filter(None, [os.environ.get("DOCKER_HOST", ""), f"unix://{DEFAULT_SOCKET}"]):
        probe = docker_client_at(url)
        if probe is not None:
            probe.close()
            return url
    if IN_CI:
        return _provision_podman()
    missing(f"no Docker API at DOCKER_HOST or {DEFAULT_SOCKET}; run scripts/podman-service.sh")
