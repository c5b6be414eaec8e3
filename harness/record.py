"""A step's record: what the load processes and the servers measured, judged, with trust flags."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from harness.confidence import rank_interval
from harness.contract import Series, StepLine, TierSeries, WorkerShare
from harness.histogram import decode, estimate_ms, summarize
from harness.metrics.promql import PromqlTier
from harness.plan import Step
from harness.slo import Cause, Estimate, Evidence, TierResult, Verdict, judge, store_holds
from harness.spec import TierSlo
from harness.tiers import TIERS
from harness.trust import trust_flags
from harness.vantage.views import HostCpu, ServerView, VantageRecord
from toxics.schedule import ToxicState, describe_toxic


class ToxicView(BaseModel):
    model_config = ConfigDict(frozen=True)

    link: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int]
    level: str = ""

    def describe(self) -> str:
        return describe_toxic(self.link, self.type, self.stream, self.toxicity, self.attributes, self.level)


class Added(BaseModel):
    """Faulted minus control, per percentile: what the fault added on top of what the host costs anyway."""

    model_config = ConfigDict(frozen=True)

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None


class TierReport(TierResult):
    """One tier in one step: the faulted path's numbers, and what they are read against."""

    ci_ms: tuple[float, float | None] | None = None  # the judged percentile's 95 % interval
    control: TierResult | None = None
    added_ms: Added | None = None
    uncorrected: TierResult | None = None  # probes: timed from the actual send, not the intended one
    backend: ServerView | None = None  # the reference backend's own histogram of its calls to this store
    store: ServerView | None = None  # the store's own view of its time


class HostReport(BaseModel):
    """How noisy the host was: all cores' CPU and steal, and how late a 1 ms sleep woke (jHiccup)."""

    model_config = ConfigDict(frozen=True)

    cpu_busy_percent: float | None = None
    steal_percent: float | None = None
    iowait_percent: float | None = None
    hiccup_count: int = 0
    hiccup_p50_ms: float | None = None
    hiccup_p99_ms: float | None = None
    hiccup_p999_ms: float | None = None
    hiccup_max_ms: float | None = None


class LinkEffect(BaseModel):
    """The fault asked for on a link, next to the latency it really added (faulted − control)."""

    model_config = ConfigDict(frozen=True)

    requested: str
    requested_latency_ms: float | None = None
    effective_added_ms: float | None = None  # at p50
    effective_added_p95_ms: float | None = None


class StepRecord(BaseModel):
    index: int
    users: int  # as planned
    phase: str | None = None  # phases schedule: before, fault, recovery
    level: int | None = None  # matrix schedule: 0 = no fault
    users_running: int | None = None  # as Locust counted them when the window closed
    toxics: list[ToxicView]
    window: tuple[float, float] | None
    tiers: dict[str, TierReport]
    slo: dict[str, Verdict]
    cause: dict[str, Cause] = {}
    reasons: dict[str, list[str]]
    flags: list[str]
    generator_cpu_percent: float | None
    host: HostReport | None = None
    links: dict[str, LinkEffect] = {}
    error_kinds: dict[str, dict[str, int]] = {}
    histograms: dict[str, str] = {}
    # Each user-running Locust process's part: its users, CPU and samples; a lost worker named (distributed load).
    workers: list[WorkerShare] = []
    # --slo-source prometheus: latency verdicts judged on the step's window through PromQL, kept beside ours
    slo_source: Literal["harness", "prometheus"] = "harness"
    promql: dict[str, PromqlTier] = {}


def result_of(series: Series | None) -> TierResult | None:
    if series is None:
        return None
    summary = summarize(decode(series.hdr)) if series.hdr else None
    if summary is None:
        return TierResult(count=0, errors=series.errors)
    return TierResult(count=summary.count, errors=series.errors, p50_ms=summary.p50_ms, p90_ms=summary.p90_ms,
                      p95_ms=summary.p95_ms, p99_ms=summary.p99_ms, p999_ms=summary.p999_ms,
                      max_ms=summary.max_ms, mean_ms=summary.mean_ms)


def estimates_of(series: Series | None, percentiles: list[float]) -> dict[float, Estimate]:
    if series is None or not series.hdr:
        return {}
    histogram = decode(series.hdr)
    n = histogram.get_total_count()
    if n == 0:
        return {}
    found = {}
    for percentile in percentiles:
        ranks = rank_interval(n, percentile / 100.0)
        found[percentile] = Estimate(
            percentile=percentile,
            value_ms=estimate_ms(histogram, percentile / 100.0 * n),
            low_ms=estimate_ms(histogram, ranks.lower) if ranks.lower >= 1 else 0.0,
            high_ms=estimate_ms(histogram, ranks.upper) if ranks.upper <= n else None,
        )
    return found


def added_of(faulted: TierResult | None, control: TierResult | None) -> Added | None:
    if faulted is None or control is None or not faulted.count or not control.count:
        return None

    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a - b, 3)

    return Added(p50=minus(faulted.p50_ms, control.p50_ms), p95=minus(faulted.p95_ms, control.p95_ms),
                 p99=minus(faulted.p99_ms, control.p99_ms))


def store_view_holds(view: ServerView | None, percentile: float, bound_ms: float) -> bool | None:
    """The store's own view against a bound; a maximum well below it proves the percentile holds too."""
    if view is None:
        return None
    value = view.percentile_ms(percentile)
    if value is None and view.max_ms is not None and store_holds(view.max_ms, bound_ms):
        return True
    return store_holds(value, bound_ms)


def host_report(line: StepLine | None, vantage: VantageRecord | None) -> HostReport | None:
    cpu: HostCpu | None = vantage.host if vantage else None
    hiccup = summarize(decode(line.hiccup.hdr)) if line and line.hiccup and line.hiccup.hdr else None
    if cpu is None and hiccup is None:
        return None
    return HostReport(
        cpu_busy_percent=cpu.busy_percent if cpu else None,
        steal_percent=cpu.steal_percent if cpu else None,
        iowait_percent=cpu.iowait_percent if cpu else None,
        hiccup_count=hiccup.count if hiccup else 0,
        hiccup_p50_ms=hiccup.p50_ms if hiccup else None,
        hiccup_p99_ms=hiccup.p99_ms if hiccup else None,
        hiccup_p999_ms=hiccup.p999_ms if hiccup else None,
        hiccup_max_ms=hiccup.max_ms if hiccup else None,
    )


def link_effects(toxics: list[ToxicState], tiers: dict[str, TierReport]) -> dict[str, LinkEffect]:
    """Per faulted link: the request in words and numbers, and the measured effect (tier == link)."""
    effects: dict[str, LinkEffect] = {}
    for link in dict.fromkeys(str(t.link) for t in toxics):
        on_link = [t for t in toxics if str(t.link) == link]
        latency = sum(t.attributes.get("latency", 0) for t in on_link if t.type == "latency")
        added = tiers[link].added_ms if link in tiers else None
        effects[link] = LinkEffect(
            requested="; ".join(t.describe() for t in on_link),
            requested_latency_ms=float(latency) if any(t.type == "latency" for t in on_link) else None,
            effective_added_ms=added.p50 if added else None,
            effective_added_p95_ms=added.p95 if added else None,
        )
    return effects


def build_record(step: Step, measured: StepLine | None, slos: dict[str, TierSlo],
                 vantage: VantageRecord | None = None) -> StepRecord:
    """Turn the merged line for ``step`` (None if it never came) and the servers' views into a judged record."""
    faulted_links = {str(t.link) for t in step.toxics}
    series = measured.tiers if measured else {}
    tiers: dict[str, TierReport] = {}
    verdicts, causes, reasons = {}, {}, {}
    for tier in TIERS:
        data = series.get(tier)
        slo = slos.get(tier)
        report, evidence = _tier(tier, data, slo, vantage, tier in faulted_links)
        if report is not None:
            tiers[tier] = report
        if slo is None:
            continue
        verdict = judge(slo, evidence)
        verdicts[tier] = verdict.verdict
        if verdict.cause is not None:
            causes[tier] = verdict.cause
        if verdict.reasons:
            reasons[tier] = verdict.reasons
        if report is not None and verdict.ci_ms is not None:
            tiers[tier] = report.model_copy(update={"ci_ms": verdict.ci_ms})

    host = host_report(measured, vantage)
    record = StepRecord(
        index=step.index,
        users=step.users,
        phase=step.phase,
        level=step.level,
        users_running=measured.users if measured else None,
        toxics=[ToxicView(link=str(t.link), type=t.type, stream=t.stream, toxicity=t.toxicity,
                          attributes=dict(t.attributes), level=t.level) for t in step.toxics],
        window=measured.window if measured else None,
        tiers=tiers,
        slo=verdicts,
        cause=causes,
        reasons=reasons,
        flags=[],
        generator_cpu_percent=measured.generator_cpu_percent if measured else None,
        host=host,
        links=link_effects(step.toxics, tiers),
        error_kinds=_error_kinds(series),
        histograms={tier: data.faulted.hdr for tier, data in series.items() if data.faulted.hdr},
        workers=measured.workers if measured else [],
    )
    return record.model_copy(update={"flags": trust_flags(step, measured, record, slos, vantage)})


def _tier(tier: str, data: TierSeries | None, slo: TierSlo | None, vantage: VantageRecord | None,
          link_faulted: bool) -> tuple[TierReport | None, Evidence]:
    faulted = result_of(data.faulted) if data else None
    if data is None or faulted is None:
        return None, Evidence(link_faulted=link_faulted)
    control = result_of(data.control)
    percentiles = list(slo.bounds()) if slo else []
    store = vantage.stores.get(tier) if vantage else None
    added = added_of(faulted, control)
    report = TierReport(
        **faulted.model_dump(),
        control=control,
        added_ms=added,
        uncorrected=result_of(data.faulted_service),
        backend=vantage.backend.get(tier) if vantage else None,
        store=store,
    )
    bounds = slo.bounds() if slo else {}
    evidence = Evidence(
        result=faulted,
        estimates=estimates_of(data.faulted, percentiles),
        control=estimates_of(data.control, percentiles),
        store_holds={p: store_view_holds(store, p, bound) for p, bound in bounds.items()},
        link_faulted=link_faulted,
        added_p50_ms=added.p50 if added else None,
    )
    return report, evidence


def _error_kinds(series: dict[str, TierSeries]) -> dict[str, dict[str, int]]:
    kinds = {}
    for tier, data in series.items():
        merged = dict(data.faulted.error_kinds)
        if data.control is not None:
            for kind, count in data.control.error_kinds.items():
                merged[f"control {kind}"] = merged.get(f"control {kind}", 0) + count
        if merged:
            kinds[tier] = merged
    return kinds
