"""The ``limit_data`` toxic: close the connection once a number of bytes went through."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import MAX_SIZE_BYTES, ToxicModel


class LimitData(ToxicModel):
    """Close each connection after ``bytes`` bytes in the toxic's direction."""

    type: ClassVar[str] = "limit_data"

    # Toxiproxy's own name; it is already a unit.
    bytes: int = Field(ge=0, le=MAX_SIZE_BYTES)

    def attributes(self) -> dict[str, int]:
        return {"bytes": self.bytes}

    def describe(self) -> str:
        return f"limit data, connections closed after {self.bytes} bytes"
