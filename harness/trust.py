"""When a step's numbers cannot be fully trusted, and why, in sentences that travel with it.

A flag does not change a verdict (the confidence interval already carries
the sampling doubt); it tells the reader what else to weigh: a busy load
generator, missing processes, a ramp behind plan, too few samples for a
two-sided interval, a host whose own noise reaches an SLO bound, server views
that disagree with the client's, or a server view that could not be read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.confidence import min_two_sided, rank_interval
from harness.contract import StepLine
from harness.plan import Step
from harness.secrets import mask_secrets
from harness.spec import TierSlo
from harness.vantage.views import VantageRecord

if TYPE_CHECKING:
    from harness.record import StepRecord

CPU_FLAG_PERCENT = 80.0
# The backend's view is a Prometheus histogram read by interpolating inside a
# bucket: between 1 ms and 500 ms its buckets are up to 60 % as wide as their
# upper edge (10–25 ms), so a reading can be off by that much; below a few
# milliseconds the backend's async client and the probe's sync client differ
# by scheduling alone. Only disagreements past both are news.
DISAGREE_SHARE = 0.6
DISAGREE_MIN_MS = 2.0
# The tiers where the backend and the probe make the same kind of call (a
# key lookup; a point query), so their times are comparable. ClickHouse's
# backend calls are aggregates over many rows, its probe's a count: not comparable.
COMPARABLE_TIERS = ("redis", "materialize")


def trust_flags(step: Step, measured: StepLine | None, record: StepRecord, slos: dict[str, TierSlo],
                vantage: VantageRecord | None) -> list[str]:
    flags: list[str] = []
    if measured is None:
        flags.append("no measurements arrived from the load generator")
    else:
        flags += completeness_flags(step, measured)
    flags += worker_flags(record)
    cpu = record.generator_cpu_percent
    saturated_worker = any(w.worker is not None and (w.generator_cpu_percent or 0) > CPU_FLAG_PERCENT
                           for w in record.workers)
    if cpu is not None and cpu > CPU_FLAG_PERCENT and not saturated_worker:
        flags.append(f"load generator CPU {cpu:.0f}% > {CPU_FLAG_PERCENT:.0f}%: latencies may include its own delay")
    flags += sample_flags(record, slos)
    flags += host_noise_flags(record, slos)
    flags += view_flags(record)
    if vantage is not None:
        flags += [f"server view missing: {problem}" for problem in vantage.problems]
    return [mask_secrets(flag) for flag in flags]  # a store's error may quote its URL


def completeness_flags(step: Step, measured: StepLine) -> list[str]:
    """What the measurement of a step is missing: processes, users, late replies of the step before."""
    flags = []
    expected = measured.expected_sources
    if expected is not None and measured.sources < expected:
        flags.append(f"measurements from only {measured.sources} of {expected} load processes arrived")
    running = measured.users
    if running is not None and running < step.users:
        flags.append(f"only {running} of {step.users} users were running when the window closed "
                     "(the ramp had not reached the step's load)")
    late = int(measured.late.get(str(step.index - 1), 0))
    if late:
        flags.append(f"{late} replies of step {step.index - 1} came back after its record was written "
                     "(slower than the flush grace) and are missing from it")
    return flags


def worker_flags(record: StepRecord) -> list[str]:
    """Per Locust worker: one lost during the step, or one whose CPU was saturated, flags the whole step."""
    flags = []
    for share in record.workers:
        if share.lost:
            users = f" ({share.users} users ran there)" if share.users else ""
            flags.append(f"{share.label()} was lost during the step{users}: its samples of the step are missing")
        elif share.worker is not None and (share.generator_cpu_percent or 0) > CPU_FLAG_PERCENT:
            flags.append(f"load generator CPU {share.generator_cpu_percent:.0f}% on {share.label()} > "
                         f"{CPU_FLAG_PERCENT:.0f}%: latencies may include its own delay")
    return flags


def sample_flags(record: StepRecord, slos: dict[str, TierSlo]) -> list[str]:
    flags = []
    for tier, slo in slos.items():
        result = record.tiers.get(tier)
        if result is None or result.count == 0:
            continue
        for percentile in slo.bounds():
            if not rank_interval(result.count, percentile / 100.0).two_sided:
                flags.append(f"{tier}: only {result.count} samples, too few for a two-sided 95 % interval of "
                             f"p{percentile:g} (needs {min_two_sided(percentile / 100.0)})")
    return flags


def host_noise_flags(record: StepRecord, slos: dict[str, TierSlo]) -> list[str]:
    host = record.host
    if host is None or host.hiccup_p999_ms is None:
        return []
    flags = []
    for tier, slo in slos.items():
        reached = [bound for bound in slo.bounds().values() if host.hiccup_p999_ms >= bound]
        if reached:
            flags.append(f"host noise: a 1 ms sleep woke {host.hiccup_p999_ms:g} ms late at p99.9, reaching "
                         f"{tier}'s bound of {min(reached):g} ms")
    return flags


def view_flags(record: StepRecord) -> list[str]:
    """Client, backend and store views of a tier that disagree beyond what their methods explain."""
    flags = []
    for tier in COMPARABLE_TIERS:
        report = record.tiers.get(tier)
        if report is None or report.p50_ms is None:
            continue
        backend = report.backend.p50_ms if report.backend else None
        if backend is not None and _disagree(backend, report.p50_ms):
            flags.append(f"{tier}: the backend's own p50 ({backend:g} ms) and the probe's ({report.p50_ms:g} ms) "
                         f"disagree by more than max({DISAGREE_MIN_MS:g} ms, {DISAGREE_SHARE:.0%})")
        store = report.store.p50_ms if report.store else None
        ceiling = report.p95_ms or report.p50_ms
        # The store's own time is part of the client's: it cannot be longer than what the client saw.
        if store is not None and store > ceiling + max(1.0, 0.1 * ceiling):
            flags.append(f"{tier}: the store reports p50 {store:g} ms, longer than the client's p95 "
                         f"{ceiling:g} ms: one of the clocks is wrong")
    return flags


def _disagree(a: float, b: float) -> bool:
    return abs(a - b) > max(DISAGREE_MIN_MS, DISAGREE_SHARE * max(a, b))
