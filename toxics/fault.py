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

Several links faulted in one step (a compound fault) are several faults.
A ``down`` fault disables the whole link: it has no stream and no toxicity.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from toxics.catalogue import CATALOGUE, disables_link, levels_adapter
from toxics.links import Link, Stream
from toxics.model import ToxicModel


class Fault(BaseModel):
    """A toxic of one type on one link and direction, with a level per ramp step."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

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

    @model_validator(mode="after")
    def _link_down_is_all_or_nothing(self) -> Fault:
        # A disabled proxy refuses every connection both ways: a stream or a
        # toxicity below 1 would promise a partial outage that does not happen.
        if not disables_link(self.type):
            return self
        errors = []
        if "stream" in self.model_fields_set:
            errors.append(_error("stream", self.stream, "a link down stops both directions; leave stream out"))
        if self.toxicity != 1.0:
            errors.append(_error("toxicity", self.toxicity,
                                 "a link down refuses every connection; leave toxicity out (or 1)"))
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @property
    def identity(self) -> tuple[str, str, str]:
        return fault_identity(self.link.value, self.type, self.stream)

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The levels' shape depends on ``type``: one ``if type is T, levels are T's`` rule per catalogue entry.

        Each level model is written once, inside its rule; the plain ``levels``
        property only says "a list of levels or nulls".
        """
        json_schema = handler(core_schema)
        target = handler.resolve_ref_schema(json_schema)
        target["properties"]["type"] = {"title": "Type", "enum": list(CATALOGUE)}
        target["properties"]["levels"] = {
            "title": "Levels",
            "description": "one level per ramp step; null = no fault at that step",
            "type": "array",
            "minItems": 1,
            "items": {"anyOf": [{"type": "object"}, {"const": True}, {"type": "null"}]},
        }
        rules = []
        for name, model in CATALOGUE.items():
            level = model.model_json_schema()  # self-contained: a level model holds only numbers
            then: dict[str, Any] = {"properties": {"levels": {"items": {"anyOf": [level, {"type": "null"}]}}}}
            if model.disables_link:
                then["properties"]["toxicity"] = {"const": 1}
                then["not"] = {"required": ["stream"]}
            rules.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": then})
        target["allOf"] = rules
        return json_schema

def fault_identity(link: str, type: str, stream: str) -> tuple[str, str, str]:
    """What makes two faults one toxic (link, type, stream); a link down has no stream."""
    return (link, type, "" if disables_link(type) else stream)


def duplicate_faults(identities: list[tuple[str, str, str] | None]) -> list[tuple[int, int]]:
    """``(position, first position)`` for every fault whose identity an earlier one has (None: unknown)."""
    first: dict[tuple[str, str, str], int] = {}
    duplicates = []
    for position, identity in enumerate(identities):
        if identity is None:
            continue
        if identity in first:
            duplicates.append((position, first[identity]))
        else:
            first[identity] = position
    return duplicates


def _error(field: str, value: Any, message: str) -> Any:
    return {"type": PydanticCustomError("fault_" + field, message), "loc": (field,), "input": value}
