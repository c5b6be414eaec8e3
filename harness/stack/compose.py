"""Compose files → a typed project the docker backend can start (pure, no I/O but reading files).

The docker backend reads compose files itself rather than shelling out to
``docker compose``: it must label every object with the run, publish ports on
127.0.0.1 only, and tear down exactly what it made. It honours the keys in
``SUPPORTED_KEYS`` and refuses any other, naming it, so a compose file never
silently means something else here than under ``docker compose``.

Files are merged in order as Compose does: mappings (environment, labels,
depends_on, healthcheck) merge key by key, volumes merge by target path, and
everything else is replaced by the later file. One deviation: a later file
that sets ``image`` drops an earlier ``build`` (so an offline override can
swap a build for a local image).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from harness.errors import SpecError

SUPPORTED_KEYS = frozenset({
    "image", "build", "command", "entrypoint", "environment", "ports", "volumes", "tmpfs",
    "healthcheck", "depends_on", "networks", "labels", "user", "working_dir", "profiles",
})
TOP_LEVEL_KEYS = frozenset({"services", "networks", "volumes", "name", "version"})
CONDITIONS = frozenset({"service_started", "service_healthy", "service_completed_successfully"})
LOOPBACK = "127.0.0.1"

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Build(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid")

    context: Path
    dockerfile: str = "Dockerfile"


class HealthCheck(Frozen):
    """A healthcheck as argv: ``CMD-SHELL`` tests become ``/bin/sh -c``."""

    argv: list[str]
    interval_s: float = 5.0
    timeout_s: float = 5.0
    retries: int = 3
    start_period_s: float = 0.0

    @property
    def patience_s(self) -> float:
        # Generous: a first start may compile, seed or load data before answering.
        return max(60.0, self.start_period_s + (self.interval_s + self.timeout_s) * max(self.retries, 1) * 4)


class Volume(Frozen):
    source: str  # absolute host path for binds, a name for volumes ("" = anonymous)
    target: str
    read_only: bool = False
    bind: bool = True


class Service(Frozen):
    name: str
    image: str | None = None
    build: Build | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = {}
    ports: list[int] = []  # container ports, always published on 127.0.0.1 at a free host port
    volumes: list[Volume] = []
    tmpfs: dict[str, str] = {}
    healthcheck: HealthCheck | None = None
    depends_on: dict[str, str] = {}
    networks: list[str] = []
    labels: dict[str, str] = {}
    user: str | None = None
    working_dir: str | None = None
    profiles: list[str] = []


class Project(Frozen):
    services: dict[str, Service]
    extensions: dict[str, Any] = {}

    def start_order(self, profiles: frozenset[str] = frozenset()) -> list[Service]:
        """Services in dependency order, leaving out those of profiles not asked for."""
        wanted = {n: s for n, s in self.services.items() if not s.profiles or profiles & set(s.profiles)}
        ordered: list[Service] = []
        state: dict[str, str] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                raise SpecError(f"services: depends_on forms a cycle: {' → '.join(path + (name,))}")
            if name not in wanted:
                raise SpecError(f"services.{path[-1]}.depends_on: {name} is not a service here")
            state[name] = "visiting"
            for dependency in wanted[name].depends_on:
                visit(dependency, path + (name,))
            state[name] = "done"
            ordered.append(wanted[name])

        for name in wanted:
            visit(name, ())
        return ordered


def load_project(files: list[Path], env: Mapping[str, str] | None = None) -> Project:
    """Read, interpolate, merge and validate compose files; every problem at once."""
    variables = dict(os.environ if env is None else env)
    merged: dict[str, dict[str, Any]] = {}
    extensions: dict[str, Any] = {}
    problems: list[str] = []
    for path in files:
        data = _read(path)
        data = _interpolate(data, variables, str(path), problems)
        for key in data:
            if key not in TOP_LEVEL_KEYS and not str(key).startswith("x-"):
                problems.append(f"{path}: {key}: not supported by the docker backend")
        extensions.update({k: v for k, v in data.items() if str(k).startswith("x-")})
        for name, raw in (data.get("services") or {}).items():
            if not isinstance(raw, dict):
                problems.append(f"{path}: services.{name}: must be a mapping")
                continue
            for key in raw:
                if key not in SUPPORTED_KEYS:
                    problems.append(f"{path}: services.{name}.{key}: not supported by the docker backend "
                                    f"(it honours {', '.join(sorted(SUPPORTED_KEYS))})")
            try:
                merged[name] = _merge_service(merged.get(name, {}), _resolve_paths(raw, path.parent))
            except (ValueError, TypeError) as exc:
                problems.append(f"{path}: services.{name}: {exc}")
    services = {}
    for name, raw in merged.items():
        service_problems: list[str] = []
        service = _service(name, raw, service_problems)
        problems += [f"services.{name}: {problem}" for problem in service_problems]
        if service is not None:
            services[name] = service
    for name, service in services.items():
        for dependency, condition in service.depends_on.items():
            if dependency not in services:
                problems.append(f"services.{name}.depends_on: no service named {dependency}")
            if condition not in CONDITIONS:
                problems.append(f"services.{name}.depends_on.{dependency}: unknown condition {condition}")
        if service.image is None and service.build is None:
            problems.append(f"services.{name}: needs an image or a build")
    if problems:
        raise SpecError(problems, source=", ".join(str(f) for f in files))
    return Project(services=services, extensions=extensions)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read the compose file: {exc.strerror}", source=str(path)) from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"not valid YAML: {exc}", source=str(path)) from exc
    if not isinstance(data, dict):
        raise SpecError("a compose file must be a mapping", source=str(path))
    return data


def _interpolate(value: Any, variables: Mapping[str, str], where: str, problems: list[str]) -> Any:
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
            current = variables.get(name)
            if op in (":-", "-"):
                unset = current is None or (op == ":-" and current == "")
                return arg if unset else current  # type: ignore[return-value]
            if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
                problems.append(f"{where}: ${{{name}}} must be set: {arg or 'required'}")
                return ""
            if current is None:
                problems.append(f"{where}: ${{{name}}} is not set")
                return ""
            return current

        return _VARIABLE.sub(substitute, value)
    if isinstance(value, list):
        return [_interpolate(item, variables, where, problems) for item in value]
    if isinstance(value, dict):
        return {key: _interpolate(item, variables, where, problems) for key, item in value.items()}
    return value


def _resolve_paths(raw: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Relative bind sources and build contexts are relative to their compose file's folder."""
    resolved = dict(raw)
    build = resolved.get("build")
    if isinstance(build, str):
        build = {"context": build}
    if isinstance(build, dict) and "context" in build:
        resolved["build"] = {**build, "context": str((folder / build["context"]).resolve())}
    volumes = []
    for entry in resolved.get("volumes") or []:
        if isinstance(entry, str) and entry.startswith("."):
            source, _, rest = entry.partition(":")
            entry = f"{(folder / source).resolve()}:{rest}"
        volumes.append(entry)
    if "volumes" in resolved:
        resolved["volumes"] = volumes
    return resolved


def _merge_service(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if key in ("environment", "labels", "depends_on", "healthcheck"):
            merged[key] = {**_mapping(base.get(key), key), **_mapping(value, key)}
        elif key == "volumes":
            by_target = {_volume_target(v): v for v in base.get("volumes") or []}
            by_target.update({_volume_target(v): v for v in value or []})
            merged[key] = list(by_target.values())
        else:
            merged[key] = value
    if "image" in override and "build" not in override:
        merged.pop("build", None)
    return merged


def _mapping(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, list) and key == "depends_on":
        return {str(name): {"condition": "service_started"} for name in value}
    if isinstance(value, list) and key in ("environment", "labels"):
        pairs = [str(item).partition("=") for item in value]
        return {name: val for name, _, val in pairs}
    if key == "healthcheck":
        raise ValueError("healthcheck must be a mapping")
    raise ValueError(f"{key} must be a mapping or a list")


def _volume_target(entry: Any) -> str:
    parts = str(entry).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _service(name: str, raw: dict[str, Any], problems: list[str]) -> Service | None:
    """One service; each field converted on its own so every problem is reported."""

    def field(convert: Any) -> Any:
        try:
            return convert()
        except (ValueError, TypeError) as exc:
            problems.append(str(exc))
            return None

    build = raw.get("build")
    fields = {
        "image": raw.get("image"),
        "build": field(lambda: _build(build)),
        "command": field(lambda: _argv(raw.get("command"), "command")),
        "entrypoint": field(lambda: _argv(raw.get("entrypoint"), "entrypoint")),
        "environment": field(lambda: {k: "" if v is None else str(v)
                                      for k, v in _mapping(raw.get("environment"), "environment").items()}),
        "ports": field(lambda: [_port(entry) for entry in raw.get("ports") or []]),
        "volumes": field(lambda: _volumes(raw.get("volumes") or [])),
        "tmpfs": field(lambda: dict(_tmpfs(entry) for entry in _as_list(raw.get("tmpfs")))),
        "healthcheck": field(lambda: _healthcheck(raw.get("healthcheck"))),
        "depends_on": field(lambda: _depends_on(raw.get("depends_on"))),
        "networks": list(raw.get("networks") or []),
        "labels": field(lambda: {k: str(v) for k, v in _mapping(raw.get("labels"), "labels").items()}),
        "user": None if raw.get("user") is None else str(raw["user"]),
        "working_dir": raw.get("working_dir"),
        "profiles": list(raw.get("profiles") or []),
    }
    if problems:
        return None
    return Service(name=name, **fields)


def _build(build: Any) -> Build | None:
    if build is None:
        return None
    if not isinstance(build, dict):
        raise ValueError("build must be a path or a mapping with context and dockerfile")
    unknown = set(build) - {"context", "dockerfile"}
    if unknown:
        raise ValueError(f"build.{sorted(unknown)[0]}: not supported by the docker backend (context, dockerfile)")
    return Build(**build)


def _depends_on(value: Any) -> dict[str, str]:
    conditions = {}
    for dependency, spec in _mapping(value, "depends_on").items():
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise ValueError(f"depends_on.{dependency} must be a mapping with a condition")
        unknown = set(spec) - {"condition"}
        if unknown:
            raise ValueError(f"depends_on.{dependency}.{sorted(unknown)[0]}: not supported by the docker backend")
        conditions[dependency] = spec.get("condition", "service_started")
    return conditions


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _argv(value: Any, key: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    if isinstance(value, list):
        return [str(part) for part in value]
    raise ValueError(f"{key} must be a string or a list")


def _port(entry: Any) -> int:
    """``8474``, ``"8474"``, ``"127.0.0.1::8474"``, ``"127.0.0.1:18474:8474"`` → 8474.

    The host side is always 127.0.0.1 at a free port: fixed host ports would
    clash between runs, and no listener of a run faces another address.
    """
    match = _PORT.match(str(entry))
    if match is None:
        raise ValueError(f"ports: {entry} is not PORT or HOST_IP::PORT")
    host_ip = match.group("ip") or ""
    if host_ip not in ("", LOOPBACK, "localhost", "[::1]"):
        raise ValueError(f"ports: {entry} binds {host_ip}; the harness publishes on {LOOPBACK} only")
    return int(match.group("port"))


def _volumes(entries: list[Any]) -> list[Volume]:
    """Volumes, an exact repeat dropped: ``${FF_PYTHON_PREFIX}`` may well be ``/usr`` itself."""
    by_target: dict[str, Volume] = {}
    for volume in (_volume(entry) for entry in entries):
        seen = by_target.get(volume.target)
        if seen is not None and seen != volume:
            raise ValueError(f"volumes: {volume.target} is mounted twice, from {seen.source} and {volume.source}")
        by_target[volume.target] = volume
    return list(by_target.values())


def _volume(entry: Any) -> Volume:
    if not isinstance(entry, str):
        raise ValueError("volumes: only the short syntax SRC:DST[:ro] is supported")
    parts = entry.split(":")
    if len(parts) == 1:
        return Volume(source="", target=parts[0], bind=False)
    mode = parts[2] if len(parts) > 2 else "rw"
    if mode not in ("ro", "rw"):
        raise ValueError(f"volumes: {entry}: mode must be ro or rw")
    source = parts[0]
    return Volume(source=source, target=parts[1], read_only=mode == "ro", bind=source.startswith("/"))


def _tmpfs(entry: Any) -> tuple[str, str]:
    path, _, options = str(entry).partition(":")
    return path, options


# [HOST_IP:[HOST_PORT]:]CONTAINER_PORT or HOST_PORT:CONTAINER_PORT; IPv6 in brackets.
_PORT = re.compile(r"^(?:(?P<ip>\[[^\]]*\]|[^:\[\]]*):\d*:|\d*:)?(?P<port>\d+)(?:/tcp)?$")
_HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period", "disable"})
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def _seconds(value: Any, key: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"healthcheck.{key}: {value!r} is not a duration like 5s or 1m30s")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


def _healthcheck(raw: Any) -> HealthCheck | None:
    if not raw:
        return None
    if not isinstance(raw, dict):
        raise ValueError("healthcheck must be a mapping")
    unknown = set(raw) - _HEALTHCHECK_KEYS
    if unknown:
        raise ValueError(f"healthcheck.{sorted(unknown)[0]}: not supported by the docker backend")
    if raw.get("disable"):
        return None
    test = raw.get("test")
    if isinstance(test, str):
        argv = ["/bin/sh", "-c", test]
    elif isinstance(test, list) and test and test[0] == "CMD":
        argv = [str(part) for part in test[1:]]
    elif isinstance(test, list) and test and test[0] == "CMD-SHELL":
        argv = ["/bin/sh", "-c", " ".join(str(part) for part in test[1:])]
    elif isinstance(test, list) and test and test[0] == "NONE":
        return None
    else:
        raise ValueError("healthcheck.test must be a string or a list starting with CMD or CMD-SHELL")
    timing = {key: _seconds(raw[key], key) for key in ("interval", "timeout", "start_period") if key in raw}
    return HealthCheck(
        argv=argv,
        interval_s=timing.get("interval", 5.0),
        timeout_s=timing.get("timeout", 5.0),
        start_period_s=timing.get("start_period", 0.0),
        retries=int(raw.get("retries", 3)),
    )
