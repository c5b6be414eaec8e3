"""The ``latency`` toxic: delay every chunk of data by latency ± jitter."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import MAX_DURATION_MS, ToxicModel


class Latency(ToxicModel):
    """Added delay. Downstream, that is once per request/response round trip."""

    type: ClassVar[str] = "latency"

    latency_ms: int = Field(ge=0, le=MAX_DURATION_MS)
    jitter_ms: int = Field(default=0, ge=0, le=MAX_DURATION_MS)

    def attributes(self) -> dict[str, int]:
        return {"latency": self.latency_ms, "jitter": self.jitter_ms}

    def describe(self) -> str:
        jitter = f" ±{self.jitter_ms} ms" if self.jitter_ms else ""
        return f"latency {self.latency_ms} ms{jitter}"
