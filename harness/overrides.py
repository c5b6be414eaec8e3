"""Command-line overrides of an experiment: ``--users 5,10,25`` and ``--set PATH=VALUE`` (pure).

They edit the experiment's data before it is validated, so an override is
checked like anything written in the file, and the run's ``experiment.yaml``
records the experiment as run. ``PATH`` is dotted, list items by index
(``faults.0.levels.2.latency_ms``); ``VALUE`` is read as a YAML scalar
(``300``, ``0.5``, ``null``, ``true``, ``{latency_ms: 5}``).
"""

from __future__ import annotations

from typing import Any

import yaml

from harness.errors import SpecError


def parse_users(text: str) -> list[int]:
    try:
        users = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SpecError(f"--users {text!r}: give whole numbers separated by commas, e.g. 5,10,25") from None
    if not users:
        raise SpecError("--users: give at least one user count, e.g. 5,10,25")
    return users


def parse_set(text: str) -> tuple[list[str], Any]:
    path, equals, raw = text.partition("=")
    if not equals or not path.strip():
        raise SpecError(f"--set {text!r}: write PATH=VALUE, e.g. faults.0.levels.2.latency_ms=300")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise SpecError(f"--set {text!r}: the value is not a YAML scalar or flow mapping") from None
    return path.strip().split("."), value


def apply_overrides(data: dict[str, Any], users: list[int] | None, sets: list[str]) -> dict[str, Any]:
    """A copy of ``data`` with the overrides applied; a path that leads nowhere is bad input."""
    import copy

    result = copy.deepcopy(data)
    if users is not None:
        ramp = result.setdefault("ramp", {})
        if not isinstance(ramp, dict):
            raise SpecError("--users: the experiment's ramp is not a mapping")
        ramp["users"] = users
    for text in sets:
        parts, value = parse_set(text)
        _assign(result, parts, value, text)
    return result


def _assign(data: Any, parts: list[str], value: Any, text: str) -> None:
    node = data
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise SpecError(f"--set {text!r}: {where} is not an item of a list of {len(node)}")
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                node[part] = value
                return
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
        else:
            raise SpecError(f"--set {text!r}: {'.'.join(parts[:depth])} holds a value, not fields or items")
