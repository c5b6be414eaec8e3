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


class ToxicModel(BaseModel, ABC):
    """Base of the catalogue's models; subclasses set ``type`` and ``attributes()``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ClassVar[str]

    @abstractmethod
    def attributes(self) -> dict[str, int]:
        """The Toxiproxy ``attributes`` object for this level."""

    @abstractmethod
    def describe(self) -> str:
        """This level in words with units, e.g. ``latency 200 ms ±10 ms``."""
