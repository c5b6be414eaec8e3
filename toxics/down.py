"""The ``down`` fault: the link's proxy disabled for the step, then enabled again.

Not a toxic on the Toxiproxy side (``PATCH /proxies/{link} enabled:false``:
new connections are refused and open ones closed), but written like one, with
a level per step, so a link can go down and come back within the ramp:

    levels: [null, true, null]      # up, down, up ({} means down as well)
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import GetJsonSchemaHandler, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from toxics.model import ToxicModel

_NOT_A_LEVEL = "a down level is true or {} (link down for the step) or null (link up), not {value}"


class LinkDown(ToxicModel):
    """The link's proxy disabled: connections refused and open ones closed."""

    type: ClassVar[str] = "down"
    disables_link: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _true_means_down(cls, data: Any) -> Any:
        if data is True:
            return {}
        if isinstance(data, dict | LinkDown):
            return data
        # false in particular: it reads as "not down", which only null says here.
        shown = "false" if data is False else repr(data)[:40]
        raise PydanticCustomError("down_level", _NOT_A_LEVEL, {"value": shown})

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {
            "title": cls.__name__,
            "description": cls.__doc__,
            "anyOf": [{"const": True}, {"type": "object", "maxProperties": 0}],
        }

    def attributes(self) -> dict[str, int]:
        return {}

    def describe(self) -> str:
        return "link down (proxy disabled)"
