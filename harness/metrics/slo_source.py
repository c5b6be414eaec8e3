"""A step's latency SLOs judged on PromQL's percentiles instead of the harness's own (pure).

The judge is the same (``harness.slo.judge``), and so is the rest of the
evidence: the control path (through PromQL too), the store's own view, the
fault's size. Only the percentiles change, and they come without a
confidence interval, so each bound gets a point verdict: pass below it,
fail at or above it. Error-ratio bounds stay on the harness's counts.
"""

from __future__ import annotations

from harness.metrics.promql import PromqlPath, PromqlStep
from harness.plan import Step
from harness.record import StepRecord, store_view_holds
from harness.slo import Estimate, Evidence, judge
from harness.spec import TierSlo

REASON_PREFIX = "PromQL: "


def point_estimates(path: PromqlPath | None) -> dict[float, Estimate]:
    if path is None:
        return {}
    return {percentile: Estimate(percentile=percentile, value_ms=value, low_ms=value, high_ms=value)
            for percentile, value in path.percentiles_ms.items() if value is not None}


def judge_through_promql(record: StepRecord, step: Step, slos: dict[str, TierSlo], view: PromqlStep) -> StepRecord:
    """``record`` with each latency-bounded tier's verdict, cause and reasons from PromQL's percentiles."""
    faulted_links = {str(t.link) for t in step.toxics}
    verdicts, causes, reasons = dict(record.slo), dict(record.cause), dict(record.reasons)
    tiers = dict(record.tiers)
    for tier, slo in slos.items():
        bounds = slo.bounds()
        if not bounds:
            continue
        report = record.tiers.get(tier)
        seen = view.tiers.get(tier)
        evidence = Evidence(
            result=report,
            estimates=point_estimates(seen.faulted if seen else None),
            control=point_estimates(seen.control if seen else None),
            store_holds={p: store_view_holds(report.store, p, bound) for p, bound in bounds.items()} if report else {},
            link_faulted=tier in faulted_links,
            added_p50_ms=report.added_ms.p50 if report and report.added_ms else None,
        )
        verdict = judge(slo, evidence)
        verdicts[tier] = verdict.verdict
        causes.pop(tier, None)
        if verdict.cause is not None:
            causes[tier] = verdict.cause
        reasons.pop(tier, None)
        if verdict.reasons:
            reasons[tier] = [REASON_PREFIX + reason for reason in verdict.reasons]
        if report is not None:
            tiers[tier] = report.model_copy(update={"ci_ms": None})  # a point, not an interval
    return record.model_copy(update={"slo": verdicts, "cause": causes, "reasons": reasons, "tiers": tiers,
                                     "slo_source": "prometheus", "promql": view.tiers,
                                     "flags": record.flags + [f"PromQL: {problem}" for problem in view.problems]})
