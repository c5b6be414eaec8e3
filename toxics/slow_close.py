"""The ``slow_close`` toxic: hold a connection open for a while after it was closed."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import MAX_DURATION_MS, ToxicModel


class SlowClose(ToxicModel):
    """Delay the close of the connection by ``delay_ms`` (Toxiproxy's ``delay``, ms)."""

    type: ClassVar[str] = "slow_close"

    delay_ms: int = Field(ge=0, le=MAX_DURATION_MS)

    def attributes(self) -> dict[str, int]:
        return {"delay": self.delay_ms}

    def describe(self) -> str:
        return f"slow close, closing delayed {self.delay_ms} ms"
