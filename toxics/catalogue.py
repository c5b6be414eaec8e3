"""The explicit registry of toxic types the harness knows.

Adding a type is one new module (a ``ToxicModel`` subclass) and one line here;
the fault model, the schedule and the client need no change.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from toxics.bandwidth import Bandwidth
from toxics.down import LinkDown
from toxics.latency import Latency
from toxics.limit_data import LimitData
from toxics.model import ToxicModel
from toxics.reset_peer import ResetPeer
from toxics.slicer import Slicer
from toxics.slow_close import SlowClose
from toxics.timeout import Timeout

CATALOGUE: dict[str, type[ToxicModel]] = {
    Latency.type: Latency,
    Bandwidth.type: Bandwidth,
    SlowClose.type: SlowClose,
    Timeout.type: Timeout,
    ResetPeer.type: ResetPeer,
    Slicer.type: Slicer,
    LimitData.type: LimitData,
    LinkDown.type: LinkDown,
}


def parse_level(type: str, data: Any) -> ToxicModel:
    """Validate one level's settings for toxic ``type``; raises pydantic's ValidationError.

    Raises KeyError for a type not in the catalogue (the fault model reports
    that as a field error before it gets here).
    """
    return CATALOGUE[type].model_validate(data)


def disables_link(type: str) -> bool:
    """Whether faults of ``type`` disable the link's proxy instead of adding a toxic (False if unknown)."""
    model = CATALOGUE.get(type)
    return model is not None and model.disables_link


@cache
def levels_adapter(type: str) -> TypeAdapter[list[ToxicModel | None]]:
    """Validator for a whole ``levels`` list of ``type``; errors are located ``<index>.<field>``."""
    model = CATALOGUE[type]
    return TypeAdapter(Annotated[list[model | None], Field(min_length=1)])  # type: ignore[valid-type]
