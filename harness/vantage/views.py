"""What one measurement window looked like from the servers' side.

The load's own percentiles say how slow a tier was for its clients; these
views say how long the servers themselves took, and how busy the host was,
so a verdict can tell a slow store from a noisy host or a slow network path.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError


class VantageError(HarnessError):
    """A server's own view could not be read or made sense of.

    It never leaves ``harness.vantage``: the collector turns each one into a
    sentence in the window's ``problems``, because a missing view must not
    stop a run.
    """


class ServerView(BaseModel):
    """One server's account of its own call durations over a window.

    Every number is optional: each server offers a different subset (Redis
    has no max, PostgreSQL no percentiles), and an absent number means
    "this source does not say", never zero.
    """

    model_config = ConfigDict(frozen=True)

    # Where the numbers come from and what they leave out, in words a report can print.
    source: str
    count: int | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None

    def percentile_ms(self, percentile: float) -> float | None:
        """The given percentile (50, 90, 95, 99, 99.9) if this view has it; None for any other."""
        return {
            50.0: self.p50_ms, 90.0: self.p90_ms, 95.0: self.p95_ms, 99.0: self.p99_ms, 99.9: self.p999_ms,
        }.get(float(percentile))

    def holds(self, percentile: float, bound_ms: float) -> bool | None:
        """True when this view shows the percentile below the bound, False when at/above it, None when it cannot say.

        Without the percentile itself, a maximum below the bound still proves
        it (no call reached the bound); a maximum at or above it proves
        nothing about the percentile, hence None.
        """
        value = self.percentile_ms(percentile)
        if value is not None:
            return value < bound_ms
        if self.max_ms is not None and self.max_ms < bound_ms:
            return True
        return None


class HostCpu(BaseModel):
    """All cores of the host over the window, as shares of their time (each 0–100).

    busy + steal + iowait + idle = 100: steal (a hypervisor giving our vCPUs
    to someone else) and iowait are kept out of busy so each can be blamed
    on its own.
    """

    model_config = ConfigDict(frozen=True)

    busy_percent: float
    steal_percent: float
    iowait_percent: float
    cores: int


class VantageRecord(BaseModel):
    """Everything the servers said about one window, and what they could not say."""

    model_config = ConfigDict(frozen=True)

    host: HostCpu | None
    # tier -> the reference backend's own per-tier histogram, differenced over the window
    backend: dict[str, ServerView]
    # tier ("redis", "materialize", "clickhouse") -> the store's own view of its time
    stores: dict[str, ServerView]
    # each view that could not be read, in a sentence naming it
    problems: list[str]
