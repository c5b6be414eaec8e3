"""What every toxic type in the catalogue is: a small validated settings model.

A toxic type is a pydantic model whose fields carry their unit in the name
(``latency_ms``) and whose ``attributes()`` maps them to Toxiproxy's attribute
names and units. Values are checked when the experiment is read, not when
traffic flows (Toxiproxy itself accepts ``rate: 0`` and fails later).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

# Upper bounds shared by every toxic field. A day is longer than any run (a
# ramp step is at most a day as well), so a larger value is a typo; all stay
# far inside the int64 Toxiproxy stores them in, so none can overflow there.
MAX_DURATION_MS = 86_400_000
MAX_DURATION_US = MAX_DURATION_MS * 1000
# 1 TiB: more than any run sends through one connection.
MAX_SIZE_BYTES = 1 << 40


class ToxicModel(BaseModel, ABC):
    """Base of the catalogue's models; subclasses set ``type`` and ``attributes()``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    type: ClassVar[str]
    # True for a fault that is not a toxic at all but the link's proxy disabled
    # for the step (``down``): the applier disables the proxy instead of adding
    # a toxic, and enables it again when the level goes back to null.
    disables_link: ClassVar[bool] = False

    @abstractmethod
    def attributes(self) -> dict[str, int]:
        """The Toxiproxy ``attributes`` object for this level."""

    @abstractmethod
    def describe(self) -> str:
        """This level in words with units, e.g. ``latency 200 ms ±10 ms``."""
