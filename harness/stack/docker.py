"""The docker backend: the compose stack as containers of this run, through docker-py.

docker-py is imported here only, and its errors become StackError here. Every
object carries the run's labels; ports are published on 127.0.0.1 only;
readiness runs each service's healthcheck with ``exec`` from our own poll
loop (Podman without systemd never runs healthchecks itself); teardown saves
each container's log into the run folder and removes containers, network and
volumes, also when start-up fails.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import docker.errors
import docker.types
import requests.exceptions

from harness.errors import StackError
from harness.stack.base import Address, Endpoints, LinkEndpoint, ManagedStack
from harness.stack.compose import Project, Service, load_project
from harness.stack.links import link_of, swap_address
from harness.stack.readiness import CallableCheck, HttpCheck, wait_ready

RUN_LABEL = "com.flowforge.harness.run"
OWNER_LABEL = "com.flowforge.harness.owner"
SERVICE_LABEL = "com.flowforge.harness.service"
LOOPBACK = "127.0.0.1"


@contextmanager
def docker_errors(what: str) -> Iterator[None]:
    try:
        yield
    except docker.errors.DockerException as exc:
        raise StackError(f"docker: {what}: {exc}") from exc
    except (requests.exceptions.RequestException, OSError) as exc:
        raise StackError(f"docker: {what}: the Docker API did not answer ({exc})") from exc


def connect(timeout_s: float = 60.0) -> docker.DockerClient:
    """The Docker API of DOCKER_HOST (or the default socket); StackError when none answers."""
    with docker_errors(f"connecting to {os.environ.get('DOCKER_HOST', 'the default socket')}"):
        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
        return client


def api_answers() -> tuple[bool, str]:
    """Whether a Docker API answers, and the reason, for the backend choice."""
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        connect(timeout_s=5).close()
    except StackError:
        return False, f"no Docker API answers at {where}"
    return True, f"a Docker API answers at {where}"


class ContainerWatch:
    """A container seen through the readiness loop's eyes."""

    def __init__(self, name: str, container: Any) -> None:
        self.name = name
        self._container = container

    def running(self) -> bool:
        with docker_errors(f"inspecting {self.name}"):
            self._container.reload()
        return self._container.status in ("created", "running")

    def exit_code(self) -> int | None:
        return self._container.attrs.get("State", {}).get("ExitCode")

    def tail(self, lines: int = 20) -> str:
        try:
            return self._container.logs(tail=lines).decode("utf-8", "replace").rstrip()
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return ""

    def log_name(self) -> str:
        return f"container {self._container.name}"


class DockerStack(ManagedStack):
    name = "docker"

    def __init__(self, folder: Path, run_id: str, compose_files: list[Path],
                 variables: dict[str, str] | None = None, profiles: frozenset[str] = frozenset()) -> None:
        self.folder = folder
        self.run_id = run_id
        self.compose_files = compose_files
        self.variables = variables or {}
        self.profiles = profiles
        self._client: docker.DockerClient | None = None
        self._containers: dict[str, Any] = {}
        self._network: Any = None
        self._volumes: list[Any] = []
        self._built: set[str] = set()

    @property
    def labels(self) -> dict[str, str]:
        return {RUN_LABEL: self.run_id, OWNER_LABEL: f"{socket.gethostname()}:{os.getpid()}"}

    def _up(self) -> Endpoints:
        project = self._project()
        self._client = connect()
        settings = project.extensions.get("x-flowforge") or {}
        with docker_errors("creating the run's network"):
            self._network = self._client.networks.create(f"ff-{self.run_id}", labels=self.labels)
        healthy: set[str] = set()
        for service in project.start_order(self.profiles):
            self._await_dependencies(project, service, healthy)
            self._start(service)
        for name, service in project.services.items():
            if name in self._containers and service.healthcheck and name not in healthy:
                if not _is_one_shot(project, name):
                    self._wait_healthy(service)
                    healthy.add(name)
        return self._endpoints(project, settings)

    def _project(self) -> Project:
        """The compose files read (a user's stack may add to them: harness.stack.user_docker)."""
        return load_project(self.compose_files, {**os.environ, **self.variables})

    def _await_dependencies(self, project: Project, service: Service, healthy: set[str]) -> None:
        for dependency, condition in service.depends_on.items():
            if condition == "service_healthy" and dependency not in healthy:
                self._wait_healthy(project.services[dependency])
                healthy.add(dependency)
            elif condition == "service_completed_successfully":
                self._wait_completed(dependency)

    def _image(self, service: Service) -> str:
        """The service's image: built (as Compose does, tagged ``image`` if given), found, or pulled."""
        assert self._client is not None
        if service.build is not None:
            tag = service.image or f"flowforge-{service.name}:dev"
            if tag not in self._built:
                with docker_errors(f"building {service.name} from {service.build.context}"):
                    self._client.images.build(path=str(service.build.context), dockerfile=service.build.dockerfile,
                                              tag=tag, rm=True, labels={SERVICE_LABEL: service.name})
                self._built.add(tag)
            return tag
        image = service.image or ""
        try:
            with docker_errors(f"looking for image {image}"):
                self._client.images.get(image)
        except StackError as exc:
            if not isinstance(exc.__cause__, docker.errors.ImageNotFound):
                raise
            try:
                self._client.images.pull(image)
            except (docker.errors.DockerException, requests.exceptions.RequestException) as pull_error:
                raise StackError(
                    f"{service.name}: image {image} is not here and could not be pulled ({pull_error}); "
                    "without a registry use --offline (compose/offline.yaml)") from pull_error
        return image

    def _start(self, service: Service) -> None:
        assert self._client is not None and self._network is not None
        image = self._image(service)
        mounts = []
        for volume in service.volumes:
            if volume.bind:
                if not Path(volume.source).exists():
                    raise StackError(f"{service.name}: bind mount source {volume.source} does not exist")
                mounts.append(docker.types.Mount(volume.target, volume.source, type="bind",
                                                 read_only=volume.read_only))
            else:
                with docker_errors(f"creating a volume for {service.name}"):
                    created = self._client.volumes.create(
                        name=f"ff-{self.run_id}-{service.name}-{len(self._volumes)}", labels=self.labels)
                self._volumes.append(created)
                mounts.append(docker.types.Mount(volume.target, created.name, type="volume",
                                                 read_only=volume.read_only))
        network = self._network.name
        with docker_errors(f"starting {service.name}"):
            container = self._client.containers.create(
                image,
                command=service.command,
                entrypoint=service.entrypoint,
                environment=service.environment,
                name=f"ff-{self.run_id}-{service.name}",
                labels={**service.labels, **self.labels, SERVICE_LABEL: service.name},
                network=network,
                networking_config={network: self._client.api.create_endpoint_config(
                    aliases=[service.name] if service.aliases is None else service.aliases)},
                ports={f"{port}/tcp": (LOOPBACK, None) for port in service.ports},
                mounts=mounts,
                tmpfs=service.tmpfs or None,
                user=service.user,
                working_dir=service.working_dir,
            )
            self._containers[service.name] = container
            container.start()

    def _wait_healthy(self, service: Service) -> None:
        container = self._containers[service.name]
        check = service.healthcheck
        if check is None:
            return

        def probe() -> bool:
            result = container.exec_run(check.argv)
            return result.exit_code == 0

        wait_ready(service.name, CallableCheck(f"healthcheck {' '.join(check.argv)}", probe),
                   check.patience_s, ContainerWatch(service.name, container), interval_s=max(0.5, check.interval_s / 5))

    def _wait_completed(self, name: str) -> None:
        container = self._containers[name]
        with docker_errors(f"waiting for {name} to finish"):
            status = container.wait(timeout=600)
        code = status.get("StatusCode")
        if code != 0:
            tail = ContainerWatch(name, container).tail(20)
            raise StackError(f"{name} exited with code {code}\nlast lines of its log:\n{tail}")

    def _published(self, service: str, port: int) -> int:
        container = self._containers[service]
        with docker_errors(f"reading {service}'s published ports"):
            container.reload()
        bindings = (container.ports or {}).get(f"{port}/tcp") or []
        if not bindings:
            raise StackError(f"{service}: port {port} is not published (add it to its ports)")
        return int(bindings[0]["HostPort"])

    def _endpoints(self, project: Project, settings: dict[str, Any]) -> Endpoints:
        from harness.errors import toxiproxy_errors
        from toxics.client import ToxiproxyClient

        toxiproxy = settings.get("toxiproxy", {}).get("service", "toxiproxy")
        api_port = int(settings.get("toxiproxy", {}).get("api_port", 8474))
        backend = settings.get("backend", {}).get("service", "backend")
        backend_port = int(settings.get("backend", {}).get("port", 8000))
        api = f"http://{LOOPBACK}:{self._published(toxiproxy, api_port)}"
        wait_ready(toxiproxy, HttpCheck(f"{api}/version"), 30, ContainerWatch(toxiproxy, self._containers[toxiproxy]))
        backend_url = f"http://{LOOPBACK}:{self._published(backend, backend_port)}"
        wait_ready(backend, HttpCheck(f"{backend_url}/healthz"), 120,
                   ContainerWatch(backend, self._containers[backend]))
        with toxiproxy_errors(), ToxiproxyClient(api) as client:
            proxies = client.proxies()
            version = client.version()
        links: dict[str, LinkEndpoint] = {}
        controls: dict[str, LinkEndpoint] = {}
        rewrites = {}
        for name, proxy in proxies.items():
            port = int(proxy.listen.rsplit(":", 1)[1])
            published = self._published(toxiproxy, port)
            up_host, _, up_port = proxy.upstream.rpartition(":")
            link, is_control = link_of(name)
            (controls if is_control else links)[link] = LinkEndpoint(
                listen=Address(host=LOOPBACK, port=published), upstream=Address(host=up_host, port=int(up_port)))
            rewrites[f"{toxiproxy}:{port}"] = f"{LOOPBACK}:{published}"
        env = project.services[backend].environment

        def from_host(url: str) -> str:
            for inside, outside in rewrites.items():
                url = url.replace(inside, outside)
            return url

        def control_of(link: str, url: str) -> str | None:
            if link not in controls or link not in links:
                return None
            return swap_address(url, links[link].listen, controls[link].listen)

        if "websocket" not in links:
            raise StackError("toxiproxy has no proxy named websocket (compose/toxiproxy.json)")
        redis_url = from_host(env.get("FF_REDIS_URL", ""))
        materialize_dsn = from_host(env.get("FF_MATERIALIZE_DSN", ""))
        clickhouse_url = from_host(env.get("FF_CLICKHOUSE_URL", ""))
        websocket_url = f"ws://{links['websocket'].listen}"
        versions = {"toxiproxy": version}
        versions.update({s.name: s.image or f"built from {s.build.context}" for s in project.services.values()
                         if s.name in self._containers and (s.image or s.build)})
        return Endpoints(
            backend=backend_url,
            toxiproxy_api=api,
            links=links,
            controls=controls,
            redis_url=redis_url,
            materialize_dsn=materialize_dsn,
            clickhouse_url=clickhouse_url,
            websocket_url=websocket_url,
            redis_control_url=control_of("redis", redis_url),
            materialize_control_dsn=control_of("materialize", materialize_dsn),
            clickhouse_control_url=control_of("clickhouse", clickhouse_url),
            websocket_control_url=control_of("websocket", websocket_url),
            versions=versions,
            notes=list(settings.get("notes", [])),
        )

    def down(self) -> None:
        if self._client is None:
            return
        logs = self.folder / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        for name, container in reversed(list(self._containers.items())):
            try:
                (logs / f"{name}.log").write_bytes(container.logs())
            except (docker.errors.DockerException, requests.exceptions.RequestException):
                pass
        self._containers.clear()
        client, self._client = self._client, None
        try:
            remove_run(client, self.run_id)
        finally:
            client.close()


def remove_run(client: docker.DockerClient, run_id: str) -> list[str]:
    """Remove every container, network and volume labelled with ``run_id``; say what.

    Each object on its own: one that refuses does not spare the rest, and the
    refusals are reported together at the end.
    """
    removed, failures = [], []
    selector = {"label": f"{RUN_LABEL}={run_id}"}
    kinds = (
        ("container", lambda: client.containers.list(all=True, filters=selector), lambda c: c.remove(force=True, v=True)),
        ("network", lambda: client.networks.list(filters=selector), lambda n: n.remove()),
        ("volume", lambda: client.volumes.list(filters=selector), lambda v: v.remove(force=True)),
    )
    for kind, listing, remove in kinds:
        with docker_errors(f"listing the {kind}s of run {run_id}"):
            found = listing()
        for item in found:
            try:
                with docker_errors(f"removing {kind} {item.name}"):
                    remove(item)
                removed.append(f"{kind} {item.name}")
            except StackError as exc:
                failures.append(str(exc))
    if failures:
        raise StackError("; ".join(failures))
    return removed


def remove_dead_runs() -> list[str]:
    """Objects of runs whose harness (same host, pid gone) died; removed, and named."""
    client = connect()
    try:
        runs: dict[str, str] = {}
        with docker_errors("listing containers of earlier runs"):
            for container in client.containers.list(all=True, filters={"label": RUN_LABEL}):
                runs[container.labels[RUN_LABEL]] = container.labels.get(OWNER_LABEL, "")
            for network in client.networks.list(filters={"label": RUN_LABEL}):
                labels = network.attrs.get("Labels") or {}
                runs.setdefault(labels.get(RUN_LABEL, ""), labels.get(OWNER_LABEL, ""))
        removed = []
        for run_id, owner in runs.items():
            if run_id and _owner_dead(owner):
                removed += remove_run(client, run_id)
        return removed
    finally:
        client.close()


def _owner_dead(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host and host != socket.gethostname():
        return False  # another machine's run: not ours to judge
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _is_one_shot(project: Project, name: str) -> bool:
    return any(s.depends_on.get(name) == "service_completed_successfully" for s in project.services.values())
