"""The ``timeout`` toxic: stop all data, then close the connection after a while (or never)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import MAX_DURATION_MS, ToxicModel


class Timeout(ToxicModel):
    """No data gets through; the connection is closed after ``timeout_ms``, or, with 0, held
    open until the toxic is removed (which closes the connections it held)."""

    type: ClassVar[str] = "timeout"

    timeout_ms: int = Field(ge=0, le=MAX_DURATION_MS)

    def attributes(self) -> dict[str, int]:
        return {"timeout": self.timeout_ms}

    def describe(self) -> str:
        if self.timeout_ms == 0:
            return "timeout, data stopped, connection held open"
        return f"timeout, data stopped, connection closed after {self.timeout_ms} ms"
