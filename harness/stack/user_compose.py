"""The user's own compose files: the ``x-flowforge:`` section, and Toxiproxy inserted when they have none.

Pure: files in, a typed project out (no Docker). ``harness run NAME --compose
FILE [--compose FILE2]`` reads the files as the docker backend reads
compose/flowforge.yaml (harness.stack.compose: same keys, merged in order)
and the top-level ``x-flowforge:`` section says what the harness needs to
know about the stack (schema/x-flowforge.schema.json, generated from
``XFlowforge`` below; ``python -m harness.stack.user_compose`` rewrites it)::

    x-flowforge:
      toxiproxy: {service: toxiproxy, api_port: 8474}   # or {insert: true}
      backend: {service: api, port: 8080, health_path: /healthz}
      links:
        redis: {proxy: cache, url: "redis://{address}/0"}
        materialize: {proxy: mz, url: "postgresql://materialize@{address}/materialize"}

Each link names the Toxiproxy proxy that carries it (default: the link's
own name) and, for a store, the URL the harness's probes use through it
(``{address}`` becomes the proxy's published address). A control proxy
(same upstream, never a toxic) is ``control_proxy``, by default
``<proxy>-control`` when their Toxiproxy has one; without it the link's
tier is judged without a control path (and the report says so).

Toxiproxy inserted (``toxiproxy: {insert: true}``): the harness adds a
Toxiproxy service and puts it in front of each store link's ``service`` on
``port`` under the store's own name. The store answers on the run's network
as ``<service>-upstream`` only; Toxiproxy answers as ``<service>`` and
listens on the store's port, forwarding to ``<service>-upstream``. The
backend's configuration is untouched (it still says ``redis:6379``) and
every call it makes to that store crosses the link. The websocket link goes
in front of the backend the same way, except that the backend keeps its
name (viewers reach the link through the published proxy port); a backend
without the dashboard WebSocket says ``backend: {websocket: false}``. Services
that depend on a store also wait for Toxiproxy to answer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import SpecError
from harness.spec_errors import format_validation_errors
from harness.stack.compose import load_project
from harness.stack.compose_models import HealthCheck, Project, Service, Volume
from harness.stack.links import control_name
from toxics.links import Link

SECTION = "x-flowforge"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "x-flowforge.schema.json"
TOXIPROXY_IMAGE = "ghcr.io/shopify/toxiproxy:2.12.0"
OFFLINE_IMAGE = "localhost/flowforge-base:latest"
UPSTREAM_SUFFIX = "-upstream"
CONFIG_PATH = "/config/toxiproxy.json"
# Default probe URLs per store link; Materialize's needs its user and database, so it has none.
DEFAULT_URLS = {Link.REDIS: "redis://{address}/0", Link.CLICKHOUSE: "http://{address}"}
FIRST_FREE_PORT = 20000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToxiproxyService(_Strict):
    """Which service is Toxiproxy, or that the harness inserts one."""

    service: str = Field(default="toxiproxy", description="the Toxiproxy service (inserted: the name it gets)")
    api_port: int = Field(default=8474, ge=1, le=65535, description="its API's port inside the container")
    insert: bool = Field(default=False, description="true: the harness adds Toxiproxy in front of each link's "
                                                    "service (the file has none)")


class BackendService(_Strict):
    """The app under test: its HTTP API is where the users' load goes."""

    service: str = Field(default="backend", description="the backend service")
    port: int = Field(default=8000, ge=1, le=65535, description="its HTTP port inside the container (published)")
    health_path: str = Field(default="/healthz", pattern=r"^/",
                             description="answers 200 once the backend is ready")
    websocket: bool = Field(default=True, description="it serves the dashboard WebSocket viewers load "
                                                      "(/ws/dashboards/N); false: no websocket link, no viewers")


class LinkSection(_Strict):
    """One link: the proxy that carries it and, for a store, how the probes reach the store through it."""

    proxy: str | None = Field(default=None, description="their Toxiproxy's proxy for this link (default: the "
                                                        "link's name); inserted: the link's name")
    control_proxy: str | None = Field(default=None, description="a proxy to the same upstream that never carries "
                                                                "a toxic (default: <proxy>-control if present)")
    service: str | None = Field(default=None, description="the store's service (needed with toxiproxy.insert)")
    port: int | None = Field(default=None, ge=1, le=65535, description="the store's port (needed with insert)")
    url: str | None = Field(default=None, description="how probes reach the store through the proxy, {address} "
                                                      "standing for it, e.g. redis://{address}/0")


class XFlowforge(_Strict):
    """The ``x-flowforge:`` section of a user's compose file."""

    toxiproxy: ToxiproxyService = ToxiproxyService()
    backend: BackendService = BackendService()
    links: dict[Link, LinkSection] = Field(default_factory=dict,
                                           description="per link (redis, materialize, clickhouse, websocket)")
    notes: list[str] = Field(default_factory=list, description="said in every report of a run on this stack")

    @model_validator(mode="after")
    def _links_fit(self) -> XFlowforge:
        problems = []
        if not self.backend.websocket and Link.WEBSOCKET in self.links:
            problems.append("links.websocket: backend.websocket is false (the backend serves no WebSocket)")
        for link, section in self.links.items():
            if section.url is not None and "{address}" not in section.url:
                problems.append(f"links.{link.value}.url: must contain {{address}} (the proxy's address)")
            if link == Link.MATERIALIZE and section.url is None:
                problems.append("links.materialize.url: give the DSN through the proxy, e.g. "
                                "postgresql://materialize@{address}/materialize")
            if self.toxiproxy.insert and link != Link.WEBSOCKET and (section.service is None or section.port is None):
                problems.append(f"links.{link.value}: toxiproxy.insert needs the store's service and port")
        if self.toxiproxy.insert:
            ports = [s.port for link, s in self.links.items() if link != Link.WEBSOCKET]
            if len(set(ports)) != len(ports) or self.toxiproxy.api_port in ports:
                problems.append("links: with toxiproxy.insert every store's port must differ from the others' and "
                                "from toxiproxy.api_port (Toxiproxy listens on each)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def proxy_of(self, link: Link) -> str:
        section = self.links.get(link)
        return (section.proxy if section and section.proxy and not self.toxiproxy.insert else None) or link.value

    def url_of(self, link: Link) -> str | None:
        section = self.links.get(link)
        return (section.url if section else None) or DEFAULT_URLS.get(link)


class UserProject(BaseModel):
    """The user's stack as the harness starts it: the project (Toxiproxy inserted if asked) and its section."""

    model_config = ConfigDict(frozen=True)

    project: Project
    settings: XFlowforge
    toxiproxy_config: list[dict[str, Any]] = []  # inserted Toxiproxy's proxies (its -config file)


def read_settings(project: Project, source: str) -> XFlowforge:
    raw = project.extensions.get(SECTION)
    if raw is None:
        raise SpecError(f"no top-level {SECTION}: section; it names the Toxiproxy and backend services and the "
                        f"links (see schema/x-flowforge.schema.json)", source=source)
    try:
        return XFlowforge.model_validate(raw)
    except ValidationError as exc:
        raise SpecError([f"{SECTION}.{problem}" for problem in format_validation_errors(exc, XFlowforge, raw)],
                        source=source) from exc


def load_user_project(files: list[Path], env: dict[str, str],
                      make_toxiproxy: Callable[[int], Service] | None = None) -> UserProject:
    """Read, merge and check the user's files; insert Toxiproxy (``make_toxiproxy(api_port)``) if asked."""
    source = ", ".join(str(f) for f in files)
    project = load_project(files, env)
    settings = read_settings(project, source)
    problems = _missing_services(project, settings)
    if problems:
        raise SpecError(problems, source=source)
    if not settings.toxiproxy.insert:
        return UserProject(project=project, settings=settings)
    if make_toxiproxy is None:
        raise SpecError(f"{SECTION}.toxiproxy.insert: no Toxiproxy service to insert", source=source)
    inserted, config = insert_toxiproxy(project, settings, make_toxiproxy(settings.toxiproxy.api_port))
    return UserProject(project=inserted, settings=settings, toxiproxy_config=config)


def _missing_services(project: Project, settings: XFlowforge) -> list[str]:
    services = project.services
    problems = []
    toxiproxy = settings.toxiproxy
    if toxiproxy.insert and toxiproxy.service in services:
        problems.append(f"{SECTION}.toxiproxy: insert, but a service {toxiproxy.service} exists already")
    if not toxiproxy.insert:
        if toxiproxy.service not in services:
            problems.append(f"{SECTION}.toxiproxy.service: no service named {toxiproxy.service}")
        elif toxiproxy.api_port not in services[toxiproxy.service].ports:
            problems.append(f"services.{toxiproxy.service}.ports: publish the API port {toxiproxy.api_port}")
    backend = settings.backend
    if backend.service not in services:
        problems.append(f"{SECTION}.backend.service: no service named {backend.service}")
    elif backend.port not in services[backend.service].ports:
        problems.append(f"services.{backend.service}.ports: publish the backend's port {backend.port}")
    for link, section in settings.links.items():
        if section.service is not None and section.service not in services:
            problems.append(f"{SECTION}.links.{link.value}.service: no service named {section.service}")
    return problems


def insert_toxiproxy(project: Project, settings: XFlowforge, toxiproxy: Service) -> tuple[Project, list[dict[str, Any]]]:
    """The project with ``toxiproxy`` in front of each link's service, and that Toxiproxy's proxies."""
    stores = {link: s for link, s in settings.links.items() if link != Link.WEBSOCKET}
    used = {settings.toxiproxy.api_port, *(s.port for s in stores.values() if s.port)}
    free = (port for port in range(FIRST_FREE_PORT, 65536) if port not in used)
    config: list[dict[str, Any]] = []
    fronted: dict[str, str] = {}  # store service → the alias it keeps
    for link, section in stores.items():
        assert section.service is not None and section.port is not None
        upstream = f"{section.service}{UPSTREAM_SUFFIX}:{section.port}"
        fronted[section.service] = f"{section.service}{UPSTREAM_SUFFIX}"
        config.append(_proxy(link.value, section.port, upstream))
        config.append(_proxy(control_name(link.value), next(free), upstream))
    backend = settings.backend
    if backend.websocket:
        websocket = f"{backend.service}:{backend.port}"
        config.append(_proxy(Link.WEBSOCKET.value, next(free), websocket))
        config.append(_proxy(control_name(Link.WEBSOCKET.value), next(free), websocket))
    name = settings.toxiproxy.service
    ports = [settings.toxiproxy.api_port, *(int(entry["listen"].rsplit(":", 1)[1]) for entry in config)]
    inserted = toxiproxy.model_copy(update={"name": name, "ports": ports,
                                            "aliases": [name, *fronted]})
    services: dict[str, Service] = {}
    for service in project.services.values():
        update: dict[str, Any] = {}
        if service.name in fronted:
            update["aliases"] = [fronted[service.name]]
        if any(dependency in fronted for dependency in service.depends_on):
            update["depends_on"] = {**service.depends_on, name: "service_healthy"}
        services[service.name] = service.model_copy(update=update) if update else service
    services[name] = inserted
    return project.model_copy(update={"services": services}), config


def _proxy(name: str, port: int, upstream: str) -> dict[str, Any]:
    return {"name": name, "listen": f"0.0.0.0:{port}", "upstream": upstream, "enabled": True}


def toxiproxy_service(config_file: Path, api_port: int, offline: dict[str, str] | None) -> Service:
    """The Toxiproxy service the harness inserts: the pinned image, or (offline) the host's binary in the base
    image, as compose/offline.yaml runs it. ``offline`` holds the harness's offline variables (FF_*)."""
    command = ["-host=0.0.0.0", f"-port={api_port}", f"-config={CONFIG_PATH}"]
    config = Volume(source=str(config_file), target=CONFIG_PATH, read_only=True)
    labels = {"com.flowforge.service": "toxiproxy", "com.flowforge.inserted": "true"}
    environment = {"LOG_LEVEL": "info"}
    if offline is None:
        return Service(name="toxiproxy", image=TOXIPROXY_IMAGE, command=command, environment=environment,
                       volumes=[config], labels=labels,
                       healthcheck=HealthCheck(argv=["/toxiproxy-cli", "list"], interval_s=1, retries=30))
    python = f"{offline['FF_REPO']}/.venv/bin/python"
    mounts = {"/usr": "/usr", **{offline[key]: offline[key] for key in ("FF_PYTHON_PREFIX", "FF_REPO",
                                                                         "FF_TOXIPROXY_BIN")}}
    volumes = [Volume(source=source, target=target, read_only=True) for target, source in
               {target: source for source, target in mounts.items()}.items()] + [config]
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{api_port}/version', timeout=2)"
    return Service(name="toxiproxy", image=OFFLINE_IMAGE, entrypoint=[offline["FF_TOXIPROXY_BIN"]],
                   command=command, environment=environment, volumes=volumes,
                   labels=labels, healthcheck=HealthCheck(argv=[python, "-c", probe], interval_s=1, retries=30))


def x_flowforge_schema() -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "x-flowforge",
            **XFlowforge.model_json_schema(mode="validation")}


def render_schema() -> str:
    return json.dumps(x_flowforge_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render_schema(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_FILE}\n")
