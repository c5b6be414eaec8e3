"""A step's record: what the recorder measured, judged against the SLOs, with trust flags."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.histogram import decode, encode, merge, summarize
from harness.plan import Step
from harness.slo import TierResult, TierVerdict, Verdict, judge_step, too_few_samples
from harness.spec import TierSlo
from harness.tiers import TIERS

CPU_FLAG_PERCENT = 80.0


class ToxicView(BaseModel):
    model_config = ConfigDict(frozen=True)

    link: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int]


class StepRecord(BaseModel):
    index: int
    users: int  # as planned
    users_running: int | None = None  # as Locust counted them when the window closed
    toxics: list[ToxicView]
    window: tuple[float, float] | None
    tiers: dict[str, TierResult]
    slo: dict[str, Verdict]
    reasons: dict[str, list[str]]
    flags: list[str]
    generator_cpu_percent: float | None
    error_kinds: dict[str, dict[str, int]] = {}
    histograms: dict[str, str] = {}


def merge_measurements(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """One step's lines from several processes → one line: histograms merged, errors summed."""
    tiers: dict[str, dict[str, Any]] = {}
    for line in lines:
        for tier, data in line.get("tiers", {}).items():
            into = tiers.setdefault(tier, {"hdr": None, "errors": 0, "error_kinds": {}})
            if data.get("hdr"):
                into["hdr"] = encode(merge([h for h in (into["hdr"], data["hdr"]) if h]))
            into["errors"] += int(data.get("errors", 0))
            for kind, count in data.get("error_kinds", {}).items():
                into["error_kinds"][kind] = into["error_kinds"].get(kind, 0) + count
    cpus = [line["generator_cpu_percent"] for line in lines if line.get("generator_cpu_percent") is not None]
    windows = [line["window"] for line in lines if line.get("window")]
    users = [line["users"] for line in lines if line.get("users")]
    late: dict[str, int] = {}
    for line in lines:
        for index, count in (line.get("late") or {}).items():
            late[index] = late.get(index, 0) + int(count)
    return {
        "index": lines[0]["index"],
        "window": windows[0] if windows else None,
        "generator_cpu_percent": max(cpus) if cpus else None,
        "users": max(users) if users else None,  # only Locust runs users; probes report none
        "late": late,
        "tiers": tiers,
        "sources": len(lines),
    }


def tier_results(measured: dict[str, Any] | None) -> dict[str, TierResult]:
    """Per-tier percentiles and counts of a (merged) recorder line."""
    tiers: dict[str, TierResult] = {}
    measured_tiers = (measured or {}).get("tiers", {})
    for tier in TIERS:
        data = measured_tiers.get(tier)
        if data is None:
            continue
        encoded = data.get("hdr")
        summary = summarize(decode(encoded)) if encoded else None
        tiers[tier] = TierResult(
            count=summary.count if summary else 0,
            errors=int(data.get("errors", 0)),
            **({} if summary is None else {
                "p50_ms": summary.p50_ms, "p90_ms": summary.p90_ms, "p95_ms": summary.p95_ms,
                "p99_ms": summary.p99_ms, "p999_ms": summary.p999_ms, "max_ms": summary.max_ms,
                "mean_ms": summary.mean_ms,
            }),
        )
    return tiers


def build_record(step: Step, measured: dict[str, Any] | None, slos: dict[str, TierSlo]) -> StepRecord:
    """Turn the recorder's line for ``step`` (None if it never came) into a judged record."""
    tiers = tier_results(measured)
    measured_tiers = (measured or {}).get("tiers", {})
    histograms = {tier: data["hdr"] for tier, data in measured_tiers.items() if data.get("hdr")}
    error_kinds = {tier: data["error_kinds"] for tier, data in measured_tiers.items() if data.get("error_kinds")}
    flags: list[str] = []
    verdicts: dict[str, TierVerdict] = judge_step(slos, tiers)

    cpu = (measured or {}).get("generator_cpu_percent")
    if measured is None:
        flags.append("no measurements arrived from the load generator")
    else:
        flags += _completeness_flags(step, measured)
    if cpu is not None and cpu > CPU_FLAG_PERCENT:
        flags.append(f"load generator CPU {cpu:.0f}% > {CPU_FLAG_PERCENT:.0f}%: latencies may include its own delay")
    for tier, slo in slos.items():
        if too_few_samples(slo, tiers.get(tier)):
            flags.append(f"{tier}: only {tiers[tier].count} samples, too few for {slo.describe()}")

    window = (measured or {}).get("window")
    return StepRecord(
        index=step.index,
        users=step.users,
        users_running=(measured or {}).get("users"),
        toxics=[ToxicView(link=t.link, type=t.type, stream=t.stream, toxicity=t.toxicity,
                          attributes=dict(t.attributes)) for t in step.toxics],
        window=tuple(window) if window else None,
        tiers=tiers,
        slo={tier: v.verdict for tier, v in verdicts.items()},
        reasons={tier: v.reasons for tier, v in verdicts.items() if v.reasons},
        flags=flags,
        generator_cpu_percent=cpu,
        error_kinds=error_kinds,
        histograms=histograms,
    )


def _completeness_flags(step: Step, measured: dict[str, Any]) -> list[str]:
    """What the measurement of a step is missing: processes, users, late replies of the step before."""
    flags = []
    expected = measured.get("expected_sources")
    if expected is not None and measured.get("sources", expected) < expected:
        flags.append(f"measurements from only {measured['sources']} of {expected} load processes arrived")
    running = measured.get("users")
    if running is not None and running < step.users:
        flags.append(f"only {running} of {step.users} users were running when the window closed "
                     "(the ramp had not reached the step's load)")
    late = int((measured.get("late") or {}).get(str(step.index - 1), 0))
    if late:
        flags.append(f"{late} replies of step {step.index - 1} came back after its record was written "
                     "(slower than the flush grace) and are missing from it")
    return flags
