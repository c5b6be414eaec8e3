"""The explicit registry of toxic types the harness knows.

Adding a type is one new module (a ``ToxicModel`` subclass) and one line here;
the fault model, the schedule and the client need no change.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from toxics.bandwidth import Bandwidth
from toxics.latency import Latency
from toxics.model import ToxicModel

CATALOGUE: dict[str, type[ToxicModel]] = {
    Latency.type: Latency,
    Bandwidth.type: Bandwidth,
}


def parse_level(type: str, data: Any) -> ToxicModel:
    """Validate one level's settings for toxic ``type``; raises pydantic's ValidationError.

    Raises KeyError for a type not in the catalogue (the fault model reports
    that as a field error before it gets here).
    """
    return CATALOGUE[type].model_validate(data)


@cache
def levels_adapter(type: str) -> TypeAdapter[list[ToxicModel | None]]:
    """Validator for a whole ``levels`` list of ``type``; errors are located ``<index>.<field>``."""
    model = CATALOGUE[type]
    return TypeAdapter(Annotated[list[model | None], Field(min_length=1)])  # type: ignore[valid-type]
