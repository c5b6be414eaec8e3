"""SLO verdicts per step and tier, with confidence and a cause (pure).

A breached SLO is a result: this module returns verdicts, it never raises.

Each latency bound is judged on the percentile's 95 % confidence interval
(``harness.confidence``): ``pass`` when the whole interval lies below the
bound, ``fail`` when it lies at or above it, ``inconclusive`` when it
straddles it, ``no-data`` without samples. A ``fail`` then gets its cause by
comparing the faulted path with its control path (same host, same store, no
toxic) and with the store's own view of its time:

    faulted fails, the link carries a toxic, and the control path holds
        (or the fault alone adds more than the bound)         → fail, fault
    the control path breaks it too, and so does the store     → fail, load
    the control path breaks it too, the store holds with room → inconclusive, host
        (the time is lost between store and client on this machine)
    nothing to compare with                                   → fail, fault if the
        link carries a toxic, else load

Error-ratio bounds are judged on the ratio itself (no interval): an error is
a fact, not a sample of a tail.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from harness.spec import TierSlo

# "Holds with room": the store's own percentile is at most this share of the bound.
STORE_ROOM = 0.8


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NO_DATA = "no-data"


class Cause(StrEnum):
    FAULT = "fault"  # the toxic on the tier's own link
    LOAD = "load"  # the store (or the backend) itself is slow
    HOST = "host"  # lost between store and client on this machine: it cannot judge this SLO at this load


class TierResult(BaseModel):
    """What one path of one tier measured in one step's window."""

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


class Estimate(BaseModel):
    """A percentile and its 95 % confidence interval; ``high_ms`` None = unbounded above."""

    model_config = ConfigDict(frozen=True)

    percentile: float
    value_ms: float
    low_ms: float
    high_ms: float | None

    def against(self, bound_ms: float) -> Verdict:
        if self.high_ms is not None and self.high_ms < bound_ms:
            return Verdict.PASS
        if self.low_ms >= bound_ms:
            return Verdict.FAIL
        return Verdict.INCONCLUSIVE

    def describe(self) -> str:
        high = "∞" if self.high_ms is None else f"{self.high_ms:g}"
        return f"p{self.percentile:g} {self.value_ms:g} ms (95 % CI {self.low_ms:g}–{high})"


class Evidence(BaseModel):
    """Everything one tier's verdict in one step rests on."""

    model_config = ConfigDict(frozen=True)

    result: TierResult | None = None  # the faulted path (what users' requests take)
    estimates: dict[float, Estimate] = {}  # faulted path, per bounded percentile
    control: dict[float, Estimate] = {}  # control path, per bounded percentile
    store_holds: dict[float, bool | None] = {}  # the store's own view, per bounded percentile
    link_faulted: bool = False  # a toxic is on this tier's own link
    added_p50_ms: float | None = None  # faulted − control at p50: the fault's effective size


class TierVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    cause: Cause | None = None
    reasons: list[str] = []
    percentile: float | None = None  # the percentile the verdict was decided on
    ci_ms: tuple[float, float | None] | None = None


SEVERITY = {Verdict.PASS: 0, Verdict.NO_DATA: 1, Verdict.INCONCLUSIVE: 2, Verdict.FAIL: 3}


def judge(slo: TierSlo, evidence: Evidence) -> TierVerdict:
    """Every bound of the SLO judged; the tier's verdict is the worst of them, with its cause."""
    result = evidence.result
    if result is None or result.attempts == 0:
        return TierVerdict(verdict=Verdict.NO_DATA, reasons=["no samples in the window"])
    judged = [_judge_bound(percentile, bound, evidence) for percentile, bound in slo.bounds().items()]
    if slo.error_ratio is not None:
        judged.append(_judge_errors(slo.error_ratio, evidence))
    if not judged:
        return TierVerdict(verdict=Verdict.PASS)
    worst = max(judged, key=lambda v: (SEVERITY[v.verdict], v.percentile or 0.0))
    reasons = [reason for v in judged if v.verdict != Verdict.PASS for reason in v.reasons]
    return worst.model_copy(update={"reasons": reasons})


def _judge_bound(percentile: float, bound_ms: float, evidence: Evidence) -> TierVerdict:
    result = evidence.result
    assert result is not None
    if result.count == 0:
        return TierVerdict(verdict=Verdict.FAIL, cause=Cause.FAULT if evidence.link_faulted else Cause.LOAD,
                           reasons=[f"every one of {result.errors} attempts failed"], percentile=percentile)
    estimate = evidence.estimates.get(percentile)
    if estimate is None:
        return TierVerdict(verdict=Verdict.NO_DATA, reasons=[f"p{percentile:g} not measured"])
    verdict = estimate.against(bound_ms)
    ci = (estimate.low_ms, estimate.high_ms)
    base = f"{estimate.describe()} vs bound {bound_ms:g} ms"
    if verdict == Verdict.PASS:
        return TierVerdict(verdict=verdict, percentile=percentile, ci_ms=ci)
    control = evidence.control.get(percentile)
    control_verdict = control.against(bound_ms) if control is not None else None
    store = evidence.store_holds.get(percentile)
    if verdict == Verdict.INCONCLUSIVE:
        host = control_verdict in (Verdict.FAIL, Verdict.INCONCLUSIVE) and store is True
        reason = f"{base}: the interval straddles the bound"
        if host:
            reason += "; the control path is as slow while the store's own view holds: host noise"
        return TierVerdict(verdict=verdict, cause=Cause.HOST if host else None, reasons=[reason],
                           percentile=percentile, ci_ms=ci)
    added = evidence.added_p50_ms
    if evidence.link_faulted and (control_verdict == Verdict.PASS or (added is not None and added >= bound_ms)):
        why = ("the control path holds" if control_verdict == Verdict.PASS
               else f"the fault alone adds {added:g} ms")
        return TierVerdict(verdict=Verdict.FAIL, cause=Cause.FAULT, reasons=[f"{base} ({why})"],
                           percentile=percentile, ci_ms=ci)
    if control_verdict is None and store is None:
        cause = Cause.FAULT if evidence.link_faulted else Cause.LOAD
        return TierVerdict(verdict=Verdict.FAIL, cause=cause, reasons=[base], percentile=percentile, ci_ms=ci)
    if store is True:
        return TierVerdict(
            verdict=Verdict.INCONCLUSIVE, cause=Cause.HOST, percentile=percentile, ci_ms=ci,
            reasons=[f"{base}, but with no fault to blame (control path: {control_verdict or 'none'}) the store's "
                     "own view holds with room: the time is lost on this machine, which cannot judge this SLO "
                     "at this load"])
    if store is False:
        detail = "the store's own view breaks it too"
    elif control_verdict == Verdict.PASS:
        detail = "the control path holds, but no toxic is on this link"
    else:
        detail = "the control path breaks it too"
    return TierVerdict(verdict=Verdict.FAIL, cause=Cause.LOAD, reasons=[f"{base} ({detail})"],
                       percentile=percentile, ci_ms=ci)


def _judge_errors(bound: float, evidence: Evidence) -> TierVerdict:
    result = evidence.result
    assert result is not None
    if result.errors and result.error_ratio >= bound:
        return TierVerdict(verdict=Verdict.FAIL, cause=Cause.FAULT if evidence.link_faulted else Cause.LOAD,
                           reasons=[f"error ratio {result.error_ratio:.2%} ≥ {bound:.2%}"])
    return TierVerdict(verdict=Verdict.PASS)


def point_holds(slo: TierSlo, result: TierResult | None) -> bool | None:
    """The point values of a short window against every bound (None: no attempts at all).

    Not a verdict (no interval): for live views and recovery slices, too short to judge.
    """
    if result is None or result.attempts == 0:
        return None
    if slo.bounds() and result.count == 0:
        return False
    for percentile, bound_ms in slo.bounds().items():
        value = result.percentile_ms(percentile)
        if value is None or value >= bound_ms:
            return False
    return not (slo.error_ratio is not None and result.errors and result.error_ratio >= slo.error_ratio)


def store_holds(value_ms: float | None, bound_ms: float) -> bool | None:
    """The store's own view: True below the bound with room, False at or above it, None in between or unknown."""
    if value_ms is None:
        return None
    if value_ms >= bound_ms:
        return False
    return True if value_ms <= STORE_ROOM * bound_ms else None


def overall(verdicts: Iterable[Verdict]) -> Verdict:
    """What the verdicts add up to: FAIL > INCONCLUSIVE > PASS; NO_DATA only when nothing was judged.

    A no-data verdict next to judged ones means something was not judged, so
    the sum cannot be PASS: it is INCONCLUSIVE.
    """
    flat = set(verdicts)
    if Verdict.FAIL in flat:
        return Verdict.FAIL
    if Verdict.INCONCLUSIVE in flat:
        return Verdict.INCONCLUSIVE
    if Verdict.PASS in flat:
        return Verdict.INCONCLUSIVE if Verdict.NO_DATA in flat else Verdict.PASS
    return Verdict.NO_DATA
