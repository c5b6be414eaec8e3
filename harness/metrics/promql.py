"""``--slo-source prometheus``: each step's latency percentiles as PromQL computes them from Prometheus's copy.

The exporter stamps its cumulative histograms with the plan time they are
complete up to, and every load process cuts its snapshots at each window's
edges (``harness.contract.live_cut_after``), so Prometheus holds the counts at
exactly a step's window start and end. The window's samples are the
difference of those two instants, bucket by bucket, and the percentile is
PromQL's own interpolation inside the bucket that holds the rank:

    histogram_quantile(0.95, sum by (le) (
        (flowforge_tier_latency_seconds_bucket{…} @ END)
      - ((flowforge_tier_latency_seconds_bucket{…} @ START) or (… @ END) * 0)))

(``or … * 0``: a series born inside the window had nothing before it.) A
live snapshot holds samples by the time they completed, a step's record by
the time they started: the two differ by the calls in flight at the edges.
"""

from __future__ import annotations

import json
import math

from pydantic import BaseModel, ConfigDict

from harness.errors import StackError
from harness.vantage.http_reader import HttpReader
from harness.vantage.views import VantageError

JOB = "flowforge-harness"
FAMILY = "flowforge_tier_latency_seconds"
# The exporter's stamps are whole milliseconds (truncated): read each edge just after it.
EDGE_SLACK_S = 0.0015
TIMEOUT_S = 5.0


class PromqlPath(BaseModel):
    """One path of one tier in one window, as Prometheus holds it."""

    model_config = ConfigDict(frozen=True)

    count: int
    percentiles_ms: dict[float, float | None] = {}  # None: no sample, so no percentile


class PromqlTier(BaseModel):
    model_config = ConfigDict(frozen=True)

    faulted: PromqlPath
    control: PromqlPath | None = None


class PromqlStep(BaseModel):
    """A step's window read back from Prometheus; ``problems`` says where it may not be the window."""

    model_config = ConfigDict(frozen=True)

    index: int
    window: tuple[float, float]
    tiers: dict[str, PromqlTier]
    query: str  # one of the queries, for people to paste into Prometheus
    problems: list[str] = []


def selector(name: str, tier: str, path: str) -> str:
    return f'{name}{{job="{JOB}",tier="{tier}",path="{path}"}}'


def in_window(name: str, tier: str, path: str, start: float, end: float) -> str:
    """The series' increase between two instants, exactly (no extrapolation, unlike increase())."""
    series = selector(name, tier, path)
    return f"({series} @ {end:.4f}) - (({series} @ {start:.4f}) or ({series} @ {end:.4f}) * 0)"


def quantile_query(tier: str, path: str, percentile: float, start: float, end: float) -> str:
    window = in_window(f"{FAMILY}_bucket", tier, path, start, end)
    return f"histogram_quantile({percentile / 100:g}, sum by (le) ({window}))"


class PromqlReader:
    """Queries one Prometheus; every failure is a StackError naming the query."""

    def __init__(self, url: str, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self._http = HttpReader(url, "prometheus", timeout_s)

    def close(self) -> None:
        self._http.close()

    def query(self, promql: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        """An instant query's vector: (labels, value) per series."""
        params = {"query": promql} if at is None else {"query": promql, "time": f"{at:.4f}"}
        try:
            answer = json.loads(self._http.post(f"PromQL {promql}", "/api/v1/query", "", params))
        except (VantageError, ValueError) as exc:
            raise StackError(f"prometheus at {self.url}: {exc}") from exc
        if answer.get("status") != "success" or answer["data"]["resultType"] != "vector":
            raise StackError(f"prometheus at {self.url}: PromQL {promql}: {answer.get('error', answer)}")
        return [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]

    def complete_until(self) -> float | None:
        """The latest time Prometheus holds the harness's counts complete up to (None: none yet)."""
        found = self.query(f'max(timestamp({FAMILY}_count{{job="{JOB}"}}))')
        return found[0][1] if found else None

    def step(self, index: int, window: tuple[float, float], percentiles: dict[str, list[float]]) -> PromqlStep:
        """Every tier's percentiles (faulted and control paths) in the window [start, end] (wall times)."""
        start, end = window[0] + EDGE_SLACK_S, window[1] + EDGE_SLACK_S
        problems = self._edge_problems(window)
        tiers = {}
        for tier, wanted in percentiles.items():
            faulted = self._path(tier, "faulted", wanted, start, end)
            control = self._path(tier, "control", wanted, start, end)
            tiers[tier] = PromqlTier(faulted=faulted, control=control if control.count else None)
        tier, wanted = next(iter(percentiles.items()), ("redis", [99.0]))
        example = quantile_query(tier, "faulted", wanted[0] if wanted else 99.0, start, end)
        return PromqlStep(index=index, window=window, tiers=tiers, query=example, problems=problems)

    def _path(self, tier: str, path: str, percentiles: list[float], start: float, end: float) -> PromqlPath:
        counted = self.query(f"sum({in_window(f'{FAMILY}_count', tier, path, start, end)})", at=end)
        count = round(counted[0][1]) if counted else 0
        values: dict[float, float | None] = {}
        for percentile in percentiles:
            found = self.query(quantile_query(tier, path, percentile, start, end), at=end) if count else []
            value = found[0][1] if found else math.nan
            values[percentile] = None if math.isnan(value) else round(value * 1000.0, 3)
        return PromqlPath(count=count, percentiles_ms=values)

    def _edge_problems(self, window: tuple[float, float]) -> list[str]:
        """Prometheus must hold the counts stamped at each edge; a missed cut widens the window."""
        problems = []
        for name, edge in (("start", window[0]), ("end", window[1])):
            found = self.query(f'max(timestamp({FAMILY}_count{{job="{JOB}"}} @ {edge + EDGE_SLACK_S:.4f}))',
                               at=edge + EDGE_SLACK_S)
            if not found and name == "start":
                continue  # nothing counted before the window: its start is the run's
            stamp = found[0][1] if found else None
            if stamp is None or abs(stamp - edge) > 2 * EDGE_SLACK_S:
                at = "nothing" if stamp is None else f"the counts of {edge - stamp:.1f} s earlier"
                problems.append(f"Prometheus holds {at} at the window's {name}: PromQL's window is wider")
        return problems
