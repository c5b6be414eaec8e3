"""harness.stack.user_compose: the x-flowforge section, reading a user's files, Toxiproxy inserted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from harness.errors import SpecError
from harness.stack.compose_models import Service
from harness.stack.user_compose import (
    SCHEMA_FILE,
    UPSTREAM_SUFFIX,
    XFlowforge,
    load_user_project,
    render_schema,
    toxiproxy_service,
)
from toxics.links import Link

REPO = Path(__file__).resolve().parents[2]
OFFLINE = {"FF_REPO": "/repo", "FF_PYTHON_PREFIX": "/py", "FF_TOXIPROXY_BIN": "/repo/.tools/bin/toxiproxy-server"}


def test_committed_schema_is_not_stale() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "schema/x-flowforge.schema.json is stale: run `.venv/bin/python -m harness.stack.user_compose`")


@pytest.mark.parametrize(("section", "problem"), [
    ({"links": {"redis": {"url": "redis://cache:6379/0"}}}, "must contain {address}"),
    ({"links": {"materialize": {"proxy": "mz"}}}, "links.materialize.url: give the DSN"),
    ({"toxiproxy": {"insert": True}, "links": {"redis": {"service": "cache"}}}, "needs the store's service and port"),
    ({"toxiproxy": {"insert": True}, "links": {"redis": {"service": "a", "port": 6379},
                                               "clickhouse": {"service": "b", "port": 6379}}}, "must differ"),
    ({"toxiproxy": {"insert": True, "api_port": 6379}, "links": {"redis": {"service": "a", "port": 6379}}},
     "must differ"),
    ({"backend": {"websocket": False}, "links": {"websocket": {"proxy": "ws"}}}, "serves no WebSocket"),
    ({"links": {"kafka": {}}}, "kafka"),
    ({"backend": {"service": "api", "prot": 8080}}, "prot"),
])
def test_section_problems_are_named(section: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        XFlowforge.model_validate(section)


def test_section_defaults_name_proxies_after_links() -> None:
    settings = XFlowforge.model_validate({"links": {"redis": {"proxy": "cache"}, "clickhouse": {}}})
    assert settings.proxy_of(Link.REDIS) == "cache"
    assert settings.proxy_of(Link.CLICKHOUSE) == "clickhouse"
    assert settings.url_of(Link.REDIS) == "redis://{address}/0"
    assert settings.url_of(Link.MATERIALIZE) is None  # no default: its user and database are the stack's


def write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data))
    return path


def user_stack(x_flowforge: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"services": {
        "cache": {"image": "redis:7", "healthcheck": {"test": ["CMD", "redis-cli", "ping"]}},
        "api": {"image": "mine/api:1", "ports": ["127.0.0.1::8080"],
                "depends_on": {"cache": {"condition": "service_healthy"}}},
        "worker": {"image": "mine/api:1"},
    }}
    if x_flowforge is not None:
        data["x-flowforge"] = x_flowforge
    return data


INSERT = {"toxiproxy": {"insert": True}, "backend": {"service": "api", "port": 8080},
          "links": {"redis": {"service": "cache", "port": 6379}}}


def make_toxiproxy(api_port: int) -> Service:
    return toxiproxy_service(Path("/run/toxiproxy.json"), api_port, None)


def test_toxiproxy_is_inserted_in_front_of_the_store_under_its_name(tmp_path: Path) -> None:
    user = load_user_project([write(tmp_path, "c.yaml", user_stack(INSERT))], {}, make_toxiproxy)
    services = user.project.services
    # The store answers only as cache-upstream; Toxiproxy answers as cache (and as itself).
    assert services["cache"].aliases == [f"cache{UPSTREAM_SUFFIX}"]
    assert services["toxiproxy"].aliases == ["toxiproxy", "cache"]
    # What waited for the store waits for Toxiproxy too; the rest is untouched.
    assert services["api"].depends_on == {"cache": "service_healthy", "toxiproxy": "service_healthy"}
    assert services["worker"].depends_on == {}
    proxies = {p["name"]: p for p in user.toxiproxy_config}
    assert proxies["redis"] == {"name": "redis", "listen": "0.0.0.0:6379", "upstream": "cache-upstream:6379",
                                "enabled": True}
    assert proxies["redis-control"]["upstream"] == "cache-upstream:6379"
    assert proxies["websocket"]["upstream"] == "api:8080"
    listens = sorted(int(p["listen"].rsplit(":", 1)[1]) for p in user.toxiproxy_config)
    assert sorted(services["toxiproxy"].ports) == sorted([8474, *listens])  # every listener published
    assert len(set(listens)) == len(listens)
    assert user.project.start_order()[0].name in ("cache", "toxiproxy")


def test_no_websocket_link_for_a_backend_without_one(tmp_path: Path) -> None:
    section = {**INSERT, "backend": {"service": "api", "port": 8080, "websocket": False}}
    user = load_user_project([write(tmp_path, "c.yaml", user_stack(section))], {}, make_toxiproxy)
    assert sorted(p["name"] for p in user.toxiproxy_config) == ["redis", "redis-control"]


def test_offline_toxiproxy_runs_the_hosts_binary_in_the_base_image() -> None:
    service = toxiproxy_service(Path("/run/t.json"), 8474, OFFLINE)
    assert service.image == "localhost/flowforge-base:latest"
    assert service.entrypoint == ["/repo/.tools/bin/toxiproxy-server"]
    assert {v.target for v in service.volumes} >= {"/usr", "/py", "/repo", "/config/toxiproxy.json"}
    assert service.healthcheck is not None and service.healthcheck.argv[0] == "/repo/.venv/bin/python"


@pytest.mark.parametrize(("section", "problem"), [
    (None, "no top-level x-flowforge: section"),
    ({"backend": {"service": "web", "port": 8080}}, "x-flowforge.backend.service: no service named web"),
    ({"backend": {"service": "api", "port": 9000}}, "services.api.ports: publish the backend's port 9000"),
    ({"backend": {"service": "api", "port": 8080}}, "x-flowforge.toxiproxy.service: no service named toxiproxy"),
    ({**INSERT, "links": {"redis": {"service": "redis", "port": 6379}}},
     "x-flowforge.links.redis.service: no service named redis"),
    ({"toxiproxy": {"service": "api"}, "backend": {"service": "api", "port": 8080}},
     "services.api.ports: publish the API port 8474"),
    ({"backend": {"service": "api", "port": 8080}, "links": {"materialize": {}}},
     "x-flowforge.links.materialize.url: give the DSN"),
])
def test_file_problems_are_bad_input(tmp_path: Path, section: dict[str, Any] | None, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_user_project([write(tmp_path, "c.yaml", user_stack(section))], {}, make_toxiproxy)
    assert any(problem in line for line in caught.value.problems), caught.value.problems
    assert caught.value.exit_code == 2


def test_a_second_file_overrides_the_section_key_by_key(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", user_stack(INSERT))
    second = write(tmp_path, "b.yaml", {"x-flowforge": {"notes": ["staging images"]}})
    user = load_user_project([first, second], {}, make_toxiproxy)
    assert user.settings.notes == ["staging images"]
    assert user.settings.toxiproxy.insert


def test_the_example_compose_file_reads() -> None:
    example = REPO / "examples" / "your-stack" / "compose.yaml"
    user = load_user_project([example], {}, make_toxiproxy)
    assert user.settings.backend.service in user.project.services
