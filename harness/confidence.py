"""Distribution-free confidence intervals for percentiles, from order statistics (pure).

For n samples and the q-quantile ξ, the number B of samples at or below ξ is
Binomial(n, q). The interval [X(l), X(u)] between the l-th and u-th smallest
samples holds ξ with probability P(l ≤ B ≤ u − 1), whatever the distribution.
We take the narrowest pair of ranks (l, u) whose coverage reaches the level;
rank 0 stands for "no lower bound" and rank n + 1 for "no upper bound", which
is all a small sample can say on that side (a two-sided 95 % interval for p95
needs 59 samples, for p99 300).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

LEVEL = 0.95


@dataclass(frozen=True)
class RankInterval:
    lower: int  # 0: unbounded below
    upper: int  # n + 1: unbounded above
    n: int
    coverage: float

    @property
    def two_sided(self) -> bool:
        return self.lower >= 1 and self.upper <= self.n


def _pmf(n: int, q: float, k: int) -> float:
    if q <= 0.0:
        return 1.0 if k == 0 else 0.0
    if q >= 1.0:
        return 1.0 if k == n else 0.0
    log = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * math.log(q) + (n - k) * math.log1p(-q)
    return math.exp(log)


@lru_cache(maxsize=4096)
def rank_interval(n: int, q: float, level: float = LEVEL) -> RankInterval:
    """The narrowest ranks bounding the q-quantile (0 < q < 1) of n samples at ``level``."""
    if n <= 0:
        return RankInterval(0, 1, max(n, 0), 0.0)
    # Beyond twelve standard deviations the binomial holds nothing that counts.
    spread = 12.0 * math.sqrt(n * q * (1 - q)) + 2
    low_k, high_k = max(0, int(n * q - spread)), min(n, int(math.ceil(n * q + spread)))
    pmf = {k: _pmf(n, q, k) for k in range(low_k, high_k + 1)}
    # cdf_below[k] = P(B < k), for k in low_k .. high_k + 1
    cdf_below = {low_k: 0.0}
    for k in range(low_k, high_k + 1):
        cdf_below[k + 1] = cdf_below[k] + pmf[k]

    def coverage(lower: int, upper: int) -> float:  # P(lower ≤ B ≤ upper − 1)
        lo, hi = max(lower, low_k), min(upper, high_k + 1)
        return cdf_below[hi] - cdf_below[lo] if hi > lo else 0.0

    best: RankInterval | None = None
    upper = low_k + 1
    for lower in range(max(0, low_k - 1), high_k + 2):
        upper = max(upper, lower + 1)
        while upper <= n + 1 and coverage(lower, upper) < level:
            upper += 1
        if upper > n + 1:
            break
        candidate = RankInterval(lower, upper, n, coverage(lower, upper))
        if best is None or _better(candidate, best):
            best = candidate
    return best or RankInterval(0, n + 1, n, 1.0)


def _better(candidate: RankInterval, best: RankInterval) -> bool:
    """Two-sided beats one-sided; then narrower; then the more even split of what is left out."""
    if candidate.two_sided != best.two_sided:
        return candidate.two_sided
    width_c, width_b = candidate.upper - candidate.lower, best.upper - best.lower
    if width_c != width_b:
        return width_c < width_b
    return candidate.coverage > best.coverage


def min_two_sided(q: float, level: float = LEVEL, limit: int = 100_000) -> int:
    """The fewest samples for which a two-sided interval for the q-quantile exists."""
    n = 1
    while n < limit:
        # The widest two-sided interval is [X(1), X(n)]: coverage 1 − qⁿ − (1 − q)ⁿ.
        if 1 - q**n - (1 - q) ** n >= level:
            return n
        n += 1
    return limit
