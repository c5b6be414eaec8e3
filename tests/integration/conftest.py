"""Shared fixtures for integration tests: real services, started by the product's own stack code.

Nothing here fakes a service. When a program is missing, a developer's run
skips with what to install; in CI (CI=true) the test fails loudly instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import StackError
from harness.stack import binaries, services
from harness.stack.base import Endpoints
from harness.stack.local import LocalStack
from harness.stack.readiness import wait_ready
from harness.stack.services import Service

IN_CI = os.environ.get("CI") == "true"


def missing(reason: str) -> None:
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


def started(service: Service) -> Service:
    service.process.start()
    try:
        wait_ready(service.name, service.check, service.ready_timeout_s, service.process)
    except BaseException:
        service.process.stop()
        raise
    return service


@pytest.fixture(scope="module")
def toxiproxy_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    try:
        binaries.toxiproxy_server()
    except StackError as exc:
        missing(str(exc))
    service = started(services.toxiproxy(tmp_path_factory.mktemp("toxiproxy"), new_run_id()))
    yield service
    service.process.stop()


@pytest.fixture(scope="module")
def toxiproxy_url(toxiproxy_service: Service) -> str:
    host, port = toxiproxy_service.address
    return f"http://{host}:{port}"


@pytest.fixture(scope="module")
def redis_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    try:
        binaries.debian_program("redis-server", "redis-server")
    except StackError as exc:
        missing(str(exc))
    service = started(services.redis(tmp_path_factory.mktemp("redis"), new_run_id()))
    yield service
    service.process.stop()


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Endpoints, Path, str]]:
    """The whole local stack (Toxiproxy, Redis, PostgreSQL, ClickHouse, seeded, backend)."""
    require_local_stack_programs()
    folder = tmp_path_factory.mktemp("stack")
    run_id = new_run_id("stack")
    with LocalStack(folder, run_id) as endpoints:
        yield endpoints, folder, run_id
