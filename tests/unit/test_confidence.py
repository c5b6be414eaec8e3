"""harness.confidence: order-statistic intervals for percentiles, checked against known values."""

from __future__ import annotations

import math
import random

import pytest

from harness.confidence import min_two_sided, rank_interval


def _binomial_coverage(n: int, q: float, lower: int, upper: int) -> float:
    # Exact rational arithmetic: no float overflow, no shortcut shared with the code under test.
    from fractions import Fraction

    p = Fraction(q).limit_denominator(10_000)
    total = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(max(lower, 0), min(upper, n + 1)))
    return float(total)


@pytest.mark.parametrize(("q", "n"), [(0.5, 6), (0.95, 59), (0.99, 299), (0.999, 2995)])
def test_fewest_samples_for_a_two_sided_interval(q: float, n: int) -> None:
    assert min_two_sided(q) == n
    assert rank_interval(n, q).two_sided
    assert not rank_interval(n - 1, q).two_sided


@pytest.mark.parametrize(
    ("n", "q", "ranks"),
    [
        # The classic median interval of 10 samples: X(2)..X(9), coverage 97.9 %.
        (10, 0.5, (2, 9)),
        (100, 0.5, (40, 60)),
        (20, 0.95, (17, 21)),  # one-sided: 21 = no upper bound
        (59, 0.95, (50, 59)),
    ],
)
def test_known_intervals(n: int, q: float, ranks: tuple[int, int]) -> None:
    interval = rank_interval(n, q)
    assert (interval.lower, interval.upper) == ranks


@pytest.mark.parametrize(("n", "q"), [(10, 0.5), (100, 0.95), (300, 0.99), (1000, 0.99), (2000, 0.95)])
def test_coverage_is_exact_and_at_least_the_level(n: int, q: float) -> None:
    interval = rank_interval(n, q)
    exact = _binomial_coverage(n, q, interval.lower, interval.upper)
    assert exact == pytest.approx(interval.coverage, abs=1e-9)
    assert exact >= 0.95


def test_intervals_hold_the_true_percentile_about_95_times_in_100() -> None:
    rng = random.Random(7)
    q, n, trials, held = 0.99, 400, 400, 0
    true = -math.log(1 - q)  # exponential(1)
    interval = rank_interval(n, q)
    for _ in range(trials):
        samples = sorted(rng.expovariate(1.0) for _ in range(n))
        low = samples[interval.lower - 1]
        high = samples[interval.upper - 1] if interval.upper <= n else math.inf
        held += low <= true <= high
    assert held / trials >= 0.92


def test_no_samples() -> None:
    assert not rank_interval(0, 0.99).two_sided
