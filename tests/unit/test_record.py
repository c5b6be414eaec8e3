"""harness.record.build_record: merged step lines and server views → a judged StepRecord with trust flags."""

from __future__ import annotations

from typing import Any

import pytest

from harness.contract import Series, StepLine, TierSeries, merge_lines
from harness.histogram import encode, new_histogram, record_ms
from harness.plan import Step, build_plan
from harness.record import StepRecord, ToxicView, build_record
from harness.slo import Cause, Verdict
from harness.spec import Experiment, TierSlo
from harness.vantage.views import HostCpu, ServerView, VantageRecord

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


def _step(index: int = 2, link: str = "clickhouse") -> Step:
    experiment = Experiment.model_validate({
        "name": "rec",
        "ramp": {"users": [5, 10], "step_s": 60, "settle_s": 10},
        "faults": [{"link": link, "type": "latency", "levels": [None, {"latency_ms": 50, "jitter_ms": 5}]}],
    })
    return build_plan(experiment).steps[index - 1]


def _series(data: dict[str, Any] | None) -> Series | None:
    if data is None:
        return None
    return Series(hdr=data.get("hdr"), errors=data.get("errors", 0), error_kinds=data.get("error_kinds", {}))


def _line(tiers: dict[str, dict[str, Any]], cpu: float | None = 20.0, **extra: Any) -> StepLine:
    return StepLine(index=2, window=(1010.0, 1060.0), users=10, generator_cpu_percent=cpu, tiers={
        tier: TierSeries(faulted=_series(data) or Series(), control=_series(data.get("control")))
        for tier, data in tiers.items()}, **extra)


def _vantage(**stores: ServerView) -> VantageRecord:
    return VantageRecord(host=HostCpu(busy_percent=50.0, steal_percent=0.0, iowait_percent=0.0, cores=2),
                         backend={}, stores=stores, problems=[])


def test_a_healthy_step() -> None:
    redis = _hdr([0.25] * 600 + [0.5] * 400)
    clickhouse = _hdr([100.0] * 200)
    record = build_record(_step(), _line({
        "redis": {"hdr": redis},
        "clickhouse": {"hdr": clickhouse},
        "http": {"hdr": _hdr([20.0] * 1000), "errors": 3, "error_kinds": {"/api/widgets": 3}},
    }), SLOS)

    assert (record.index, record.users) == (2, 10)
    assert record.window == (1010.0, 1060.0)
    assert record.toxics == [ToxicView(link="clickhouse", type="latency", stream="downstream", toxicity=1.0,
                                       attributes={"latency": 50, "jitter": 5}, level="latency 50 ms ±5 ms")]
    assert record.toxics[0].describe() == "clickhouse latency 50 ms ±5 ms downstream"
    assert record.tiers["redis"].count == 1000
    assert record.tiers["redis"].p50_ms == 0.25
    assert record.tiers["redis"].p99_ms == 0.5
    assert record.tiers["redis"].ci_ms == (0.5, 0.5)
    assert record.tiers["clickhouse"].p95_ms == pytest.approx(100.0, rel=1e-3)  # 3 significant digits
    assert (record.tiers["http"].count, record.tiers["http"].errors) == (1000, 3)
    assert record.slo == {"redis": Verdict.PASS, "clickhouse": Verdict.PASS, "http": Verdict.PASS}
    assert record.reasons == {} and record.cause == {}
    assert record.flags == []
    assert record.generator_cpu_percent == 20.0
    assert record.error_kinds == {"http": {"/api/widgets": 3}}
    assert record.histograms["redis"] == redis


def test_a_fault_breaking_its_tier_while_the_control_path_holds() -> None:
    record = build_record(_step(link="redis"), _line({
        "redis": {"hdr": _hdr([50.6] * 1000), "control": {"hdr": _hdr([0.4] * 1000)}},
    }), SLOS)
    assert record.slo["redis"] == Verdict.FAIL
    assert record.cause["redis"] == Cause.FAULT
    assert record.tiers["redis"].added_ms.p50 == pytest.approx(50.2, abs=0.1)
    assert record.tiers["redis"].control.p50_ms == pytest.approx(0.4, rel=0.01)
    effect = record.links["redis"]
    assert effect.requested == "redis latency 50 ms ±5 ms downstream"
    assert effect.requested_latency_ms == 50.0
    assert effect.effective_added_ms == pytest.approx(50.2, abs=0.1)


def test_host_noise_on_both_paths_with_a_quick_store_is_inconclusive_host() -> None:
    slow_tail = [0.4] * 970 + [2.0] * 30
    record = build_record(_step(), _line({
        "redis": {"hdr": _hdr(slow_tail), "control": {"hdr": _hdr(slow_tail)}},
    }), SLOS, _vantage(redis=ServerView(source="redis", p50_ms=0.002, p99_ms=0.02)))
    assert record.slo["redis"] == Verdict.INCONCLUSIVE
    assert record.cause["redis"] == Cause.HOST
    assert record.tiers["redis"].store.p99_ms == 0.02
    assert record.host.cpu_busy_percent == 50.0


def test_a_slow_store_is_load() -> None:
    slow = [0.4] * 970 + [3.0] * 30
    record = build_record(_step(), _line({"redis": {"hdr": _hdr(slow), "control": {"hdr": _hdr(slow)}}}),
                          SLOS, _vantage(redis=ServerView(source="redis", p99_ms=2.5)))
    assert (record.slo["redis"], record.cause["redis"]) == (Verdict.FAIL, Cause.LOAD)


def test_a_tier_with_only_errors() -> None:
    record = build_record(_step(), _line({"redis": {"errors": 5, "error_kinds": {"probe": 5}}}), SLOS)
    assert (record.tiers["redis"].count, record.tiers["redis"].errors) == (0, 5)
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


def test_too_few_samples_for_a_two_sided_interval_is_flagged_and_not_passed() -> None:
    record = build_record(_step(), _line({
        "redis": {"hdr": _hdr([0.3] * 10)},
        "clickhouse": {"hdr": _hdr([10.0] * 100)},
    }), SLOS)
    # Ten samples below 1 ms cannot show that 99 % of all calls are.
    assert record.slo["redis"] == Verdict.INCONCLUSIVE
    assert record.flags == ["redis: only 10 samples, too few for a two-sided 95 % interval of p99 (needs 299)"]


def test_host_noise_reaching_a_bound_is_flagged() -> None:
    line = _line({"redis": {"hdr": _hdr([0.3] * 1000)}}, hiccup=Series(hdr=_hdr([0.1] * 990 + [1.5] * 10)))
    record = build_record(_step(), line, SLOS)
    assert record.host.hiccup_p999_ms == pytest.approx(1.5, rel=0.01)
    assert "host noise: a 1 ms sleep woke 1.5 ms late at p99.9, reaching redis's bound of 1 ms" in record.flags


def test_a_backend_view_far_from_the_client_is_flagged() -> None:
    vantage = VantageRecord(host=None, stores={}, problems=["clickhouse: query_log unreadable"],
                            backend={"redis": ServerView(source="backend", p50_ms=9.0)})
    record = build_record(_step(), _line({"redis": {"hdr": _hdr([0.4] * 1000)}}), SLOS, vantage)
    assert any(flag.startswith("redis: the backend's own p50 (9 ms)") for flag in record.flags)
    assert "server view missing: clickhouse: query_log unreadable" in record.flags


def test_unknown_tiers_are_ignored_and_unjudged_tiers_kept() -> None:
    record = build_record(_step(), _line({
        "kafka": {"hdr": _hdr([1.0])},
        "websocket": {"hdr": _hdr([30.0] * 200)},
    }), SLOS)
    assert set(record.tiers) == {"websocket"}
    assert "websocket" not in record.slo
    assert record.tiers["websocket"].p95_ms == pytest.approx(30.0, rel=1e-3)


def test_record_round_trips_through_json() -> None:
    record = build_record(_step(), _line({"redis": {"hdr": _hdr([0.4] * 600), "errors": 1,
                                                   "error_kinds": {"probe": 1}}}), SLOS,
                          _vantage(redis=ServerView(source="redis", p99_ms=0.02)))
    assert StepRecord.model_validate_json(record.model_dump_json()) == record


def test_merging_lines_of_several_processes() -> None:
    locust = _line({"http": {"hdr": _hdr([5.0] * 100), "errors": 1}}, late={"1": 2})
    probe = _line({"redis": {"hdr": _hdr([0.3] * 600), "control": {"hdr": _hdr([0.3] * 500)}},
                   "http": {"hdr": _hdr([7.0] * 50), "errors": 2}}, cpu=3.0, late={"1": 1})
    probe = probe.model_copy(update={"users": None})
    merged = merge_lines([locust, probe]).model_copy(update={"expected_sources": 2})
    record = build_record(_step(), merged, SLOS)
    assert record.tiers["http"].count == 150 and record.tiers["http"].errors == 3
    assert record.tiers["redis"].count == 600
    assert record.tiers["redis"].control.count == 500
    assert record.users_running == 10
    assert record.generator_cpu_percent == 20.0
    assert record.flags == ["3 replies of step 1 came back after its record was written "
                            "(slower than the flush grace) and are missing from it"]


def test_a_missing_process_and_a_ramp_behind_plan_are_flagged() -> None:
    line = _line({"http": {"hdr": _hdr([5.0] * 100)}}).model_copy(update={"users": 7})
    record = build_record(_step(), merge_lines([line]).model_copy(update={"expected_sources": 4}), SLOS)
    assert "measurements from only 1 of 4 load processes arrived" in record.flags
    assert f"only 7 of {_step().users} users were running when the window closed " \
           "(the ramp had not reached the step's load)" in record.flags
