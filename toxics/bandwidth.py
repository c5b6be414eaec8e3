"""The ``bandwidth`` toxic: cap throughput per connection."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import ToxicModel


class Bandwidth(ToxicModel):
    """Throughput cap per connection. Toxiproxy's ``rate`` is in KB/s."""

    type: ClassVar[str] = "bandwidth"

    # 0 would stall the link for good: that is "link down", a different fault.
    rate_kbps: int = Field(gt=0)

    def attributes(self) -> dict[str, int]:
        return {"rate": self.rate_kbps}

    def describe(self) -> str:
        return f"bandwidth {self.rate_kbps} KB/s per connection"
