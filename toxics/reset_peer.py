"""The ``reset_peer`` toxic: reset connections (TCP RST, "connection reset by peer")."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import MAX_DURATION_MS, ToxicModel


class ResetPeer(ToxicModel):
    """Reset the connection ``timeout_ms`` after data arrives; 0 resets it at once."""

    type: ClassVar[str] = "reset_peer"

    timeout_ms: int = Field(ge=0, le=MAX_DURATION_MS)

    def attributes(self) -> dict[str, int]:
        return {"timeout": self.timeout_ms}

    def describe(self) -> str:
        if self.timeout_ms == 0:
            return "reset peer, connections reset at once"
        return f"reset peer, connections reset after {self.timeout_ms} ms"
