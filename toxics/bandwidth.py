"""The ``bandwidth`` toxic: cap throughput per connection."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from toxics.model import ToxicModel

# 10 GB/s: above what a loopback connection carries, so a higher cap caps nothing.
MAX_RATE_KBPS = 10_000_000


class Bandwidth(ToxicModel):
    """Throughput cap per connection. Toxiproxy's ``rate`` is in KB/s."""

    type: ClassVar[str] = "bandwidth"

    # 0 would stall the link for good: that is "link down", a different fault.
    rate_kbps: int = Field(gt=0, le=MAX_RATE_KBPS)

    def attributes(self) -> dict[str, int]:
        return {"rate": self.rate_kbps}

    def describe(self) -> str:
        return f"bandwidth {self.rate_kbps} KB/s per connection"
