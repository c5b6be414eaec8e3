"""The docker backend on the user's own compose files (``harness run NAME --compose FILE``).

Everything the docker backend does for compose/flowforge.yaml it does here
(run labels, 127.0.0.1-only ports, readiness through the healthchecks,
logs saved, everything removed): only reading the files and finding the
stack's addresses differ. The files' ``x-flowforge:`` section
(harness.stack.user_compose) says which service is Toxiproxy (or that one
is inserted), which is the backend, and which proxy carries which link.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.errors import StackError, toxiproxy_errors
from harness.stack.base import Address, Endpoints, LinkEndpoint
from harness.stack.compose import Project
from harness.stack.docker import LOOPBACK, ContainerWatch, DockerStack
from harness.stack.readiness import HttpCheck, wait_ready
from harness.stack.user_compose import SECTION, UserProject, XFlowforge, load_user_project, toxiproxy_service
from toxics.client import Proxy, ToxiproxyClient
from toxics.links import Link

CONFIG_FILE = "toxiproxy-inserted.json"


class UserComposeStack(DockerStack):
    name = "docker"

    def __init__(self, folder: Path, run_id: str, compose_files: list[Path], variables: dict[str, str] | None = None,
                 offline: bool = False) -> None:
        super().__init__(folder, run_id, compose_files, variables)
        self.offline = offline
        self.user: UserProject | None = None

    def _project(self) -> Project:
        config = self.folder / CONFIG_FILE
        self.user = read_user_stack(self.compose_files, {**os.environ, **self.variables}, config,
                                    self.variables if self.offline else None)
        if self.user.toxiproxy_config:
            # Written before any container starts: the inserted Toxiproxy loads it before its API answers.
            config.write_text(json.dumps(self.user.toxiproxy_config, indent=2), encoding="utf-8")
        return self.user.project

    def _endpoints(self, project: Project, _settings: dict[str, Any]) -> Endpoints:
        assert self.user is not None
        settings = self.user.settings
        toxiproxy = settings.toxiproxy.service
        api = f"http://{LOOPBACK}:{self._published(toxiproxy, settings.toxiproxy.api_port)}"
        wait_ready(toxiproxy, HttpCheck(f"{api}/version"), 30, ContainerWatch(toxiproxy, self._containers[toxiproxy]))
        backend = settings.backend
        backend_url = f"http://{LOOPBACK}:{self._published(backend.service, backend.port)}"
        wait_ready(backend.service, HttpCheck(f"{backend_url}{backend.health_path}"), 120,
                   ContainerWatch(backend.service, self._containers[backend.service]))
        with toxiproxy_errors(), ToxiproxyClient(api) as client:
            proxies = client.proxies()
            version = client.version()
        links, controls, names, notes = {}, {}, {}, list(settings.notes)
        for link in self._links(settings):
            proxy = _named(proxies, settings.proxy_of(link), f"{SECTION}.links.{link.value}.proxy")
            links[link.value] = self._endpoint(toxiproxy, proxy)
            names[link.value] = proxy.name
            control = _control_of(settings, link, proxies)
            if control is None:
                notes.append(f"{link.value} link: no control proxy in the stack's Toxiproxy; its tier is judged "
                             "without a control path")
                continue
            controls[link.value] = self._endpoint(toxiproxy, control)
            names[f"{link.value}-control"] = control.name
        if settings.backend.websocket and "websocket" not in links:
            raise StackError(f"{SECTION}.links.websocket: the stack's Toxiproxy has no proxy for the websocket link "
                             f"(one to {backend.service}:{backend.port}); name it, or let the harness insert Toxiproxy")

        def through(link: Link, paths: dict[str, LinkEndpoint]) -> str | None:
            url = settings.url_of(link)
            if link.value not in paths or url is None:
                return None
            return url.replace("{address}", str(paths[link.value].listen))

        versions = {"toxiproxy": version}
        versions.update({s.name: s.image or f"built from {s.build.context}" for s in project.services.values()
                         if s.name in self._containers and (s.image or s.build)})
        inserted = [f"toxiproxy inserted in front of {', '.join(s.service for s in settings.links.values() if s.service)}"
                    ] if settings.toxiproxy.insert else []
        return Endpoints(
            backend=backend_url,
            toxiproxy_api=api,
            links=links,
            controls=controls,
            redis_url=through(Link.REDIS, links) or "",
            materialize_dsn=through(Link.MATERIALIZE, links) or "",
            clickhouse_url=through(Link.CLICKHOUSE, links) or "",
            websocket_url=f"ws://{links['websocket'].listen}" if "websocket" in links else "",
            redis_control_url=through(Link.REDIS, controls),
            materialize_control_dsn=through(Link.MATERIALIZE, controls),
            clickhouse_control_url=through(Link.CLICKHOUSE, controls),
            websocket_control_url=f"ws://{controls['websocket'].listen}" if "websocket" in controls else None,
            versions=versions,
            notes=[f"your stack: {', '.join(str(f) for f in self.compose_files)}", *inserted, *notes],
            proxy_names={ours: real for ours, real in names.items() if ours != real},
        )

    def _links(self, settings: XFlowforge) -> list[Link]:
        named = list(settings.links)
        if settings.toxiproxy.insert and settings.backend.websocket and Link.WEBSOCKET not in named:
            named.append(Link.WEBSOCKET)  # inserted Toxiproxy always fronts the backend for the viewers
        return named

    def _endpoint(self, toxiproxy: str, proxy: Proxy) -> LinkEndpoint:
        port = int(proxy.listen.rsplit(":", 1)[1])
        up_host, _, up_port = proxy.upstream.rpartition(":")
        return LinkEndpoint(listen=Address(host=LOOPBACK, port=self._published(toxiproxy, port)),
                            upstream=Address(host=up_host, port=int(up_port)))


def read_user_stack(files: list[Path], env: dict[str, str], config: Path,
                    offline: dict[str, str] | None) -> UserProject:
    """The user's files as this backend starts them; also what ``harness run`` checks before starting anything."""
    return load_user_project(files, env, lambda api_port: toxiproxy_service(config, api_port, offline))


def _named(proxies: dict[str, Proxy], name: str, field: str) -> Proxy:
    if name not in proxies:
        raise StackError(f"{field}: the stack's Toxiproxy has no proxy named {name} "
                         f"(it has {', '.join(sorted(proxies)) or 'none'})")
    return proxies[name]


def _control_of(settings: XFlowforge, link: Link, proxies: dict[str, Proxy]) -> Proxy | None:
    section = settings.links.get(link)
    if section is not None and section.control_proxy is not None and not settings.toxiproxy.insert:
        return _named(proxies, section.control_proxy, f"{SECTION}.links.{link.value}.control_proxy")
    return proxies.get(f"{settings.proxy_of(link)}-control")
