"""One fault as written in an experiment file: a toxic type on a link, one level per step.

    faults:
      - link: clickhouse        # one of LINKS
        type: latency           # a key of CATALOGUE
        stream: downstream      # upstream | downstream (default downstream)
        toxicity: 1.0           # share of connections affected, 0..1 (default 1.0)
        levels:                 # one per ramp step
          - null                # no toxic at this step
          - {latency_ms: 50}
          - {latency_ms: 100, jitter_ms: 10}

Only ``null`` means "no toxic at this step". ``{}`` is validated like any other
level, so it is an error for a type with a required field (``latency_ms``):
an empty mapping is far more often a forgotten value than a deliberate pause.
Errors carry the path down to the field, e.g. ``levels.2.latency_ms``.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import PydanticCustomError

from toxics.catalogue import CATALOGUE, levels_adapter
from toxics.links import Link, Stream
from toxics.model import ToxicModel


class Fault(BaseModel):
    """A toxic of one type on one link and direction, with a level per ramp step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    link: Link
    type: str
    stream: Stream = "downstream"
    toxicity: float = Field(default=1.0, ge=0.0, le=1.0)
    levels: tuple[SerializeAsAny[ToxicModel] | None, ...]

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in CATALOGUE:
            raise PydanticCustomError(
                "unknown_toxic_type",
                "unknown toxic type '{type}'; known: {known}",
                {"type": value, "known": ", ".join(sorted(CATALOGUE))},
            )
        return value

    @field_validator("levels", mode="wrap")
    @classmethod
    def _levels_of_type(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> tuple[ToxicModel | None, ...]:
        type_ = info.data.get("type")
        if type_ is None:
            # The type was already reported as invalid; without it the levels
            # cannot be checked, and guessing would only add confusing errors.
            return ()
        # A ValidationError raised here is merged by pydantic under "levels",
        # so a bad field is reported as levels.<index>.<field>.
        return tuple(levels_adapter(type_).validate_python(value))
