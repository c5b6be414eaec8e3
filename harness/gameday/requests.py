"""The control API's request bodies, validated with the catalogue's own fault model (pure).

A fault asked for live is checked by exactly the rules of a fault in an
experiment file (``toxics.fault.Fault`` with one level): the same types,
fields, units and bounds, the same messages. Only the path differs: what a
file calls ``levels.0.latency_ms`` the API calls ``settings.latency_ms``.
Every problem of a body is reported at once, each naming its field.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.gameday.refused import Refused
from harness.gameday.users_file import MAX_USERS
from harness.spec_errors import format_validation_errors
from toxics.fault import Fault
from toxics.schedule import ToxicState, toxics_for_step

# A fault left on longer than a day is a forgotten one; the session's own length bounds it anyway.
MAX_REVERT_S = 86_400.0
MAX_ANNOTATION_CHARS = 500


M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FaultBody(_Body):
    """``POST /api/faults``: a toxic type on a link, its settings, optionally its own revert time."""

    link: str
    type: str
    stream: str | None = None
    toxicity: float | None = None
    settings: dict[str, Any] | bool | None = None
    revert_after_s: float | None = Field(default=None, gt=0, le=MAX_REVERT_S)


class FaultPatch(_Body):
    """``PATCH /api/faults/{id}``: new settings (merged into the fault's), toxicity, or a new revert time."""

    settings: dict[str, Any] | None = None
    toxicity: float | None = None
    revert_after_s: float | None = Field(default=None, gt=0, le=MAX_REVERT_S)

    @model_validator(mode="after")
    def _something(self) -> FaultPatch:
        if self.settings is None and self.toxicity is None and self.revert_after_s is None:
            raise ValueError("give at least one of settings, toxicity, revert_after_s")
        return self


class LinkBody(_Body):
    """``POST /api/links/{link}/down`` (the body is optional)."""

    revert_after_s: float | None = Field(default=None, gt=0, le=MAX_REVERT_S)


class UsersBody(_Body):
    users: int = Field(ge=0, le=MAX_USERS)
    spawn_rate: float | None = Field(default=None, gt=0, le=MAX_USERS)


class AnnotationBody(_Body):
    text: str = Field(max_length=MAX_ANNOTATION_CHARS)

    @field_validator("text")
    @classmethod
    def _said_something(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("an annotation needs some text")
        return text.strip()


class EmptyBody(_Body):
    """``POST /api/stop-all``, ``POST /api/links/{link}/up``, ``POST /api/next``: nothing to say."""


def parse_body(model: type[M], raw: bytes) -> M:
    """The body as ``model``, or Refused(422) with every problem, each naming its field."""
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise Refused(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Refused(422, "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Refused(422, format_validation_errors(exc, model, data)) from None


def toxic_of(link: str, type: str, stream: str | None, toxicity: float | None,
             settings: dict[str, Any] | bool | None) -> tuple[ToxicState, dict[str, Any]]:
    """The toxic a live fault puts on, and its settings as the catalogue validated them.

    ``settings`` may be omitted for a type without required fields (``down``).
    """
    data: dict[str, Any] = {"link": link, "type": type, "levels": [{} if settings is None else settings]}
    if stream is not None:
        data["stream"] = stream
    if toxicity is not None:
        data["toxicity"] = toxicity
    try:
        fault = Fault.model_validate(data)
    except ValidationError as exc:
        raise Refused(422, [_api_path(problem) for problem in format_validation_errors(exc, Fault, data)]) from None
    level = fault.levels[0]
    assert level is not None  # the level given was a mapping or true, never null
    return toxics_for_step([fault], 0)[0], level.model_dump()


def _api_path(problem: str) -> str:
    """``levels.0.latency_ms: …`` → ``settings.latency_ms: …`` (the API has one level: its settings)."""
    return re.sub(r"^levels(\.0)?(?=[.:])", "settings", problem)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNIT_S = {None: 1.0, "s": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0}


def parse_duration_s(text: str) -> float:
    """``300``, ``90s``, ``5m``, ``1.5h`` → seconds; ValueError naming the forms otherwise."""
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration: write seconds or a number with s, m or h (e.g. 300, 90s, 5m)")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def describe_duration(seconds: float) -> str:
    """``300`` → ``5 min``, ``3`` → ``3 s``, ``5400`` → ``1.5 h``."""
    if seconds >= 3600 and seconds % 360 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 6 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
