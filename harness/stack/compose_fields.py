"""Converters from one compose service key's raw YAML value to its typed form.

Each raises ValueError with a message naming the key, which the reader
collects per service; see harness/stack/compose.py for the rules as a whole.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from harness.stack.compose_models import Build, HealthCheck, Volume

LOOPBACK = "127.0.0.1"
# [HOST_IP:[HOST_PORT]:]CONTAINER_PORT or HOST_PORT:CONTAINER_PORT; IPv6 in brackets.
_PORT = re.compile(r"^(?:(?P<ip>\[[^\]]*\]|[^:\[\]]*):\d*:|\d*:)?(?P<port>\d+)(?:/tcp)?$")
_HEALTHCHECK_KEYS = frozenset({"test", "interval", "timeout", "retries", "start_period", "disable"})
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")

def parse_mapping(value: Any, key: str) -> dict[str, Any]:
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



def parse_build(build: Any) -> Build | None:
    if build is None:
        return None
    if not isinstance(build, dict):
        raise ValueError("build must be a path or a mapping with context and dockerfile")
    unknown = set(build) - {"context", "dockerfile"}
    if unknown:
        raise ValueError(f"build.{sorted(unknown)[0]}: not supported by the docker backend (context, dockerfile)")
    return Build(**build)


def parse_depends_on(value: Any) -> dict[str, str]:
    conditions = {}
    for dependency, spec in parse_mapping(value, "depends_on").items():
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise ValueError(f"depends_on.{dependency} must be a mapping with a condition")
        unknown = set(spec) - {"condition"}
        if unknown:
            raise ValueError(f"depends_on.{dependency}.{sorted(unknown)[0]}: not supported by the docker backend")
        conditions[dependency] = spec.get("condition", "service_started")
    return conditions


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def parse_argv(value: Any, key: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(value)
    if isinstance(value, list):
        return [str(part) for part in value]
    raise ValueError(f"{key} must be a string or a list")


def parse_port(entry: Any) -> int:
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


def parse_volumes(entries: list[Any]) -> list[Volume]:
    """Volumes, an exact repeat dropped: ``${FF_PYTHON_PREFIX}`` may well be ``/usr`` itself."""
    by_target: dict[str, Volume] = {}
    for volume in (parse_volume(entry) for entry in entries):
        seen = by_target.get(volume.target)
        if seen is not None and seen != volume:
            raise ValueError(f"volumes: {volume.target} is mounted twice, from {seen.source} and {volume.source}")
        by_target[volume.target] = volume
    return list(by_target.values())


def parse_volume(entry: Any) -> Volume:
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


def parse_tmpfs(entry: Any) -> tuple[str, str]:
    path, _, options = str(entry).partition(":")
    return path, options




def parse_seconds(value: Any, key: str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"healthcheck.{key}: {value!r} is not a duration like 5s or 1m30s")
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(number) * scale[unit] for number, unit in parts)


def parse_healthcheck(raw: Any) -> HealthCheck | None:
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
    timing = {key: parse_seconds(raw[key], key) for key in ("interval", "timeout", "start_period") if key in raw}
    return HealthCheck(
        argv=argv,
        interval_s=timing.get("interval", 5.0),
        timeout_s=timing.get("timeout", 5.0),
        start_period_s=timing.get("start_period", 0.0),
        retries=int(raw.get("retries", 3)),
    )
