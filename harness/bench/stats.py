"""Pure reductions of what the bench measured (table-driven tests in tests/unit/test_bench_stats.py)."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of nothing")
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float:
    if denominator <= 0:
        raise ValueError(f"ratio over {denominator}: the baseline measured nothing")
    return numerator / denominator


def alternating(pairs: int) -> list[tuple[int, str]]:
    """Run order A B, B A, A B, …: a drift in the machine during the bench hits both sides alike."""
    order = []
    for pair in range(pairs):
        kinds = ("plain", "recorded") if pair % 2 == 0 else ("recorded", "plain")
        order += [(pair, kind) for kind in kinds]
    return order


@dataclass(frozen=True)
class LocustTotals:
    requests: int
    failures: int
    rps: float


def aggregated(stats_csv: str) -> LocustTotals:
    """The "Aggregated" row of Locust's ``<prefix>_stats.csv``."""
    for row in csv.DictReader(io.StringIO(stats_csv)):
        if row.get("Name") == "Aggregated":
            return LocustTotals(int(row["Request Count"]), int(row["Failure Count"]), float(row["Requests/s"]))
    raise ValueError("no Aggregated row in Locust's stats CSV")


def largest_passing(steps: Sequence[tuple[int, bool]]) -> int | None:
    """The largest count that passed with every smaller count passing too (None: even the first failed).

    A pass above a failure is luck on a noisy machine, not capacity.
    """
    best = None
    for count, passed in sorted(steps):
        if not passed:
            break
        best = count
    return best


def crossing(points: Sequence[tuple[int, float]], limit: float) -> float | None:
    """Where a rising (count, value) series reaches ``limit``, interpolated between the two steps around it.

    None when no measured step reached it, or the first one already had: no extrapolation.
    """
    ordered = sorted(points)
    for (low_n, low_v), (high_n, high_v) in zip(ordered, ordered[1:], strict=False):
        if low_v < limit <= high_v:
            return low_n + (high_n - low_n) * (limit - low_v) / (high_v - low_v)
    return None


def counts_between(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    """What cumulative counters added between two snapshots (names first seen later count from 0)."""
    return {name: after[name] - before.get(name, 0) for name in after if after[name] - before.get(name, 0)}


def bucket_percentile(buckets: Mapping[int, int], percent: float) -> float | None:
    """Percentile of a {value: count} histogram (Locust's response_times), None when empty."""
    total = sum(buckets.values())
    if total <= 0:
        return None
    wanted = total * percent / 100.0
    seen = 0
    for value in sorted(buckets):
        seen += buckets[value]
        if seen >= wanted:
            return float(value)
    return float(max(buckets))


def verdict_table(runs: Sequence[Mapping[str, Mapping[int, str]]]) -> dict[str, dict[str, list[str | None]]]:
    """Per run {tier: {step: verdict}} → {tier: {step: [run 1, run 2, …]}}; a run without it holds None."""
    tiers = sorted({tier for run in runs for tier in run})
    table: dict[str, dict[str, list[str | None]]] = {}
    for tier in tiers:
        steps = sorted({step for run in runs for step in run.get(tier, {})})
        table[tier] = {str(step): [run.get(tier, {}).get(step) for run in runs] for step in steps}
    return table


def flips(table: Mapping[str, Mapping[str, Sequence[str | None]]]) -> list[str]:
    """"<tier> step <n>" for every step of a tier that passed in one run and failed in another."""
    return [f"{tier} step {step}" for tier, steps in table.items() for step, verdicts in steps.items()
            if {"pass", "fail"} <= set(verdicts)]


def stable(table: Mapping[str, Mapping[str, Sequence[str | None]]]) -> bool:
    return not flips(table)
