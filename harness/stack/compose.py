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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.errors import SpecError
from harness.stack.compose_fields import (
    as_list,
    parse_argv,
    parse_build,
    parse_depends_on,
    parse_healthcheck,
    parse_mapping,
    parse_port,
    parse_tmpfs,
    parse_volumes,
)
from harness.stack.compose_models import Build, HealthCheck, Project, Service, Volume

SUPPORTED_KEYS = frozenset({
    "image", "build", "command", "entrypoint", "environment", "ports", "volumes", "tmpfs",
    "healthcheck", "depends_on", "networks", "labels", "user", "working_dir", "profiles",
})
TOP_LEVEL_KEYS = frozenset({"services", "networks", "volumes", "name", "version"})
CONDITIONS = frozenset({"service_started", "service_healthy", "service_completed_successfully"})

_VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


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
        for key, value in data.items():
            if str(key).startswith("x-"):
                # Mappings merge key by key (an override adds notes without
                # repeating the base's settings); anything else is replaced.
                known = extensions.get(key)
                both = isinstance(known, dict) and isinstance(value, dict)
                extensions[key] = {**known, **value} if both else value
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
            merged[key] = {**parse_mapping(base.get(key), key), **parse_mapping(value, key)}
        elif key == "volumes":
            by_target = {_volume_target(v): v for v in base.get("volumes") or []}
            by_target.update({_volume_target(v): v for v in value or []})
            merged[key] = list(by_target.values())
        else:
            merged[key] = value
    if "image" in override and "build" not in override:
        merged.pop("build", None)
    return merged


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
        "build": field(lambda: parse_build(build)),
        "command": field(lambda: parse_argv(raw.get("command"), "command")),
        "entrypoint": field(lambda: parse_argv(raw.get("entrypoint"), "entrypoint")),
        "environment": field(lambda: {k: "" if v is None else str(v)
                                      for k, v in parse_mapping(raw.get("environment"), "environment").items()}),
        "ports": field(lambda: [parse_port(entry) for entry in raw.get("ports") or []]),
        "volumes": field(lambda: parse_volumes(raw.get("volumes") or [])),
        "tmpfs": field(lambda: dict(parse_tmpfs(entry) for entry in as_list(raw.get("tmpfs")))),
        "healthcheck": field(lambda: parse_healthcheck(raw.get("healthcheck"))),
        "depends_on": field(lambda: parse_depends_on(raw.get("depends_on"))),
        "networks": list(raw.get("networks") or []),
        "labels": field(lambda: {k: str(v) for k, v in parse_mapping(raw.get("labels"), "labels").items()}),
        "user": None if raw.get("user") is None else str(raw["user"]),
        "working_dir": raw.get("working_dir"),
        "profiles": list(raw.get("profiles") or []),
    }
    if problems:
        return None
    return Service(name=name, **fields)




__all__ = ["SUPPORTED_KEYS", "Build", "HealthCheck", "Project", "Service", "Volume", "load_project"]
