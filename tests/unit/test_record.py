"""harness.record.build_record: a recorder line for one step → a judged StepRecord with trust flags."""

from __future__ import annotations

from typing import Any

import pytest

from harness.histogram import encode, new_histogram, record_ms
from harness.plan import Step, build_plan
from harness.record import StepRecord, ToxicView, build_record, merge_measurements
from harness.slo import Verdict
from harness.spec import Experiment, TierSlo

SLOS = {
    "redis": TierSlo(p99_ms=1),
    "clickhouse": TierSlo(p95_ms=500),
    "http": TierSlo(error_ratio=0.01),
}


def _hdr(samples_ms: list[float]) -> str:
    histogram = new_histogram()
    for value in samples_ms:
        record_ms(histogram, value)
    return encode(histogram)


def _step(index: int = 2) -> Step:
    experiment = Experiment.model_validate({
        "name": "rec",
        "ramp": {"users": [5, 10], "step_s": 60, "settle_s": 10},
        "faults": [{"link": "clickhouse", "type": "latency", "levels": [None, {"latency_ms": 50, "jitter_ms": 5}]}],
    })
    return build_plan(experiment).steps[index - 1]


def _line(tiers: dict[str, Any], cpu: float | None = 20.0, window: list[float] | None = None) -> dict[str, Any]:
    return {"index": 2, "window": window or [1010.0, 1060.0], "users": 10, "generator_cpu_percent": cpu,
            "tiers": tiers}


def test_a_healthy_step() -> None:
    redis = _hdr([0.25] * 600 + [0.5] * 400)
    clickhouse = _hdr([100.0] * 200)
    record = build_record(_step(), _line({
        "redis": {"hdr": redis, "errors": 0, "error_kinds": {}},
        "clickhouse": {"hdr": clickhouse, "errors": 0, "error_kinds": {}},
        "http": {"hdr": _hdr([20.0] * 1000), "errors": 3, "error_kinds": {"/api/widgets": 3}},
    }), SLOS)

    assert (record.index, record.users) == (2, 10)
    assert record.window == (1010.0, 1060.0)
    assert record.toxics == [ToxicView(link="clickhouse", type="latency", stream="downstream", toxicity=1.0,
                                       attributes={"latency": 50, "jitter": 5})]
    assert record.tiers["redis"].count == 1000
    assert record.tiers["redis"].p50_ms == 0.25
    assert record.tiers["redis"].p99_ms == 0.5
    assert record.tiers["clickhouse"].p95_ms == pytest.approx(100.0, rel=1e-3)  # 3 significant digits
    assert (record.tiers["http"].count, record.tiers["http"].errors) == (1000, 3)
    assert record.slo == {"redis": Verdict.PASS, "clickhouse": Verdict.PASS, "http": Verdict.PASS}
    assert record.reasons == {}
    assert record.flags == []
    assert record.generator_cpu_percent == 20.0
    assert record.error_kinds == {"http": {"/api/widgets": 3}}
    assert record.histograms == {"redis": redis, "clickhouse": clickhouse, "http": record.histograms["http"]}


def test_a_breached_step_names_the_bound() -> None:
    record = build_record(_step(), _line({"redis": {"hdr": _hdr([0.5] * 980 + [1.5] * 20), "errors": 0}}), SLOS)
    assert record.slo["redis"] == Verdict.FAIL
    assert record.reasons["redis"] == ["p99 1.5 ms ≥ 1 ms"]
    assert record.reasons["http"] == ["no samples in the window"]
    assert record.slo["clickhouse"] == Verdict.NO_DATA
    assert record.slo["http"] == Verdict.NO_DATA


def test_a_tier_with_only_errors() -> None:
    record = build_record(_step(), _line({
        "redis": {"hdr": None, "errors": 5, "error_kinds": {"probe": 5}},
    }), SLOS)
    assert record.tiers["redis"].model_dump() == {
        "count": 0, "errors": 5, "p50_ms": None, "p90_ms": None, "p95_ms": None, "p99_ms": None,
        "p999_ms": None, "max_ms": None, "mean_ms": None,
    }
    assert record.slo["redis"] == Verdict.FAIL
    assert record.reasons["redis"] == ["every one of 5 attempts failed"]
    assert record.error_kinds == {"redis": {"probe": 5}}
    assert "redis" not in record.histograms


def test_no_line_from_the_load_generator() -> None:
    record = build_record(_step(), None, SLOS)
    assert record.tiers == {}
    assert record.slo == {tier: Verdict.NO_DATA for tier in SLOS}
    assert record.flags == ["no measurements arrived from the load generator"]
    assert record.window is None
    assert record.generator_cpu_percent is None
    assert (record.index, record.users) == (2, 10)


@pytest.mark.parametrize(
    ("cpu", "flags"),
    [
        (80.0, []),
        (None, []),
        (85.4, ["load generator CPU 85% > 80%: latencies may include its own delay"]),
    ],
)
def test_busy_load_generator_is_flagged(cpu: float | None, flags: list[str]) -> None:
    record = build_record(_step(), _line({}, cpu=cpu), SLOS)
    assert record.flags == flags


def test_too_few_samples_is_flagged() -> None:
    record = build_record(_step(), _line({
        "redis": {"hdr": _hdr([0.3] * 10), "errors": 0},
        "clickhouse": {"hdr": _hdr([10.0] * 100), "errors": 0},
    }), SLOS)
    assert record.slo["redis"] == Verdict.PASS
    assert record.flags == ["redis: only 10 samples, too few for p99 < 1 ms"]


def test_unknown_tiers_are_ignored_and_unjudged_tiers_kept() -> None:
    record = build_record(_step(), _line({
        "kafka": {"hdr": _hdr([1.0]), "errors": 0},
        "websocket": {"hdr": _hdr([30.0] * 200), "errors": 0},
    }), SLOS)
    assert set(record.tiers) == {"websocket"}
    assert "websocket" not in record.slo
    assert record.tiers["websocket"].p95_ms == pytest.approx(30.0, rel=1e-3)


def test_record_round_trips_through_json() -> None:
    record = build_record(_step(), _line({"redis": {"hdr": _hdr([0.4] * 600), "errors": 1,
                                                   "error_kinds": {"probe": 1}}}), SLOS)
    assert StepRecord.model_validate_json(record.model_dump_json()) == record


def test_merging_lines_of_several_processes() -> None:
    locust = {**_line({"http": {"hdr": _hdr([5.0] * 100), "errors": 1}}), "users": 10, "late": {"1": 2}}
    probe = {**_line({"redis": {"hdr": _hdr([0.3] * 600), "errors": 0},
                      "http": {"hdr": _hdr([7.0] * 50), "errors": 2}}, cpu=3.0), "users": None, "late": {"1": 1}}
    merged = merge_measurements([locust, probe])
    record = build_record(_step(), {**merged, "expected_sources": 2}, SLOS)
    assert record.tiers["http"].count == 150 and record.tiers["http"].errors == 3
    assert record.tiers["redis"].count == 600
    assert record.users_running == 10
    assert record.generator_cpu_percent == 20.0
    assert record.flags == ["3 replies of step 1 came back after its record was written "
                            "(slower than the flush grace) and are missing from it"]


def test_a_missing_process_and_a_ramp_behind_plan_are_flagged() -> None:
    line = {**_line({"http": {"hdr": _hdr([5.0] * 100), "errors": 0}}), "users": 7}
    record = build_record(_step(), {**merge_measurements([line]), "expected_sources": 4}, SLOS)
    assert "measurements from only 1 of 4 load processes arrived" in record.flags
    assert f"only 7 of {_step().users} users were running when the window closed " \
           "(the ramp had not reached the step's load)" in record.flags
