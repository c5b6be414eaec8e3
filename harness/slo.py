"""SLO evaluation per step and tier (pure).

A breached SLO is a result: this module returns verdicts, it never raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from harness.spec import TierSlo

MIN_SAMPLES_FOR = {50.0: 10, 90.0: 50, 95.0: 100, 99.0: 500, 99.9: 5000}


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no-data"


class TierResult(BaseModel):
    """What one tier measured in one step's window."""

    model_config = ConfigDict(frozen=True)

    count: int
    errors: int
    p50_ms: float | None = None
    p90_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    p999_ms: float | None = None
    max_ms: float | None = None
    mean_ms: float | None = None

    @property
    def attempts(self) -> int:
        return self.count + self.errors

    @property
    def error_ratio(self) -> float:
        return self.errors / self.attempts if self.attempts else 0.0

    def percentile_ms(self, percentile: float) -> float | None:
        return {50.0: self.p50_ms, 90.0: self.p90_ms, 95.0: self.p95_ms,
                99.0: self.p99_ms, 99.9: self.p999_ms}[percentile]


class TierVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    reasons: list[str]


def judge(slo: TierSlo, result: TierResult | None) -> TierVerdict:
    """Pass when every bound of the SLO held; fail naming each bound that did not."""
    if result is None or result.attempts == 0:
        return TierVerdict(verdict=Verdict.NO_DATA, reasons=["no samples in the window"])
    breaches = []
    bounds = slo.bounds()
    if bounds and result.count == 0:
        breaches.append(f"every one of {result.errors} attempts failed")
    for percentile, threshold_ms in bounds.items():
        measured = result.percentile_ms(percentile)
        if measured is not None and measured >= threshold_ms:
            breaches.append(f"p{percentile:g} {measured:g} ms ≥ {threshold_ms:g} ms")
    if slo.error_ratio is not None and result.error_ratio >= slo.error_ratio and result.errors:
        breaches.append(f"error ratio {result.error_ratio:.2%} ≥ {slo.error_ratio:.2%}")
    if breaches:
        return TierVerdict(verdict=Verdict.FAIL, reasons=breaches)
    return TierVerdict(verdict=Verdict.PASS, reasons=[])


def judge_step(slos: dict[str, TierSlo], results: dict[str, TierResult]) -> dict[str, TierVerdict]:
    return {tier: judge(slo, results.get(tier)) for tier, slo in slos.items()}


def too_few_samples(slo: TierSlo, result: TierResult | None) -> bool:
    """True when the window held fewer samples than the SLO's percentile needs to mean much."""
    if result is None:
        return False
    needed = max((MIN_SAMPLES_FOR.get(p, 0) for p in slo.bounds()), default=0)
    return 0 < result.count < needed


def overall(verdicts: Iterable[Verdict]) -> Verdict:
    """FAIL if any verdict failed; PASS if anything passed; else NO_DATA."""
    flat = list(verdicts)
    if Verdict.FAIL in flat:
        return Verdict.FAIL
    if Verdict.PASS in flat:
        return Verdict.PASS
    return Verdict.NO_DATA
