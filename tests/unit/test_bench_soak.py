"""harness.bench.soak: judging one process's samples after the warm-up (pure), and the spec it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench.errors import BenchError
from harness.bench.soak import SPEC, Sample, judge, rows
from harness.plan import build_plan
from harness.spec import load_experiment


def _series(rss: list[float], fds: list[int] | None = None, threads: list[int] | None = None) -> list[Sample]:
    """One sample every 10 s from t=0; the warm-up in these tests is 20 s (the third sample on)."""
    fds = fds or [30] * len(rss)
    threads = threads or [12] * len(rss)
    return [Sample(at_s=10.0 * i, rss_mb=r, fds=f, threads=t) for i, (r, f, t) in enumerate(zip(rss, fds, threads,
                                                                                                 strict=True))]


@pytest.mark.parametrize(("samples", "held"), [
    pytest.param(_series([40, 80, 100, 104, 109.9, 108]), (True, True, True), id="warm-up-growth-is-not-counted"),
    pytest.param(_series([40, 80, 100, 104, 110.5, 108]), (False, True, True), id="past-10-percent"),
    pytest.param(_series([100] * 6, fds=[20, 30, 30, 33, 31, 30]), (True, True, True), id="fds-back-where-they-were"),
    pytest.param(_series([100] * 6, fds=[20, 30, 30, 31, 32, 33]), (True, False, True), id="fds-creep"),
    pytest.param(_series([100] * 6, fds=[20, 30, 30, 40, 30, 30]), (True, False, True), id="fds-spike"),
    pytest.param(_series([100] * 6, threads=[5, 12, 12, 13, 12, 12]), (True, True, True), id="a-thread-came-and-went"),
    pytest.param(_series([100] * 6, threads=[5, 12, 12, 12, 13, 13]), (True, True, False), id="threads-grow"),
])
def test_judge(samples: list[Sample], held: tuple[bool, bool, bool]) -> None:
    result = judge(samples, warmup_s=20)
    assert (result["memory_held"], result["fds_held"], result["threads_held"]) == held
    assert result["rss_mb"]["at_warmup"] == samples[2].rss_mb
    assert result["samples"] == len(samples)


def test_judge_says_its_numbers() -> None:
    result = judge(_series([40, 80, 100, 104, 110.5, 108]), warmup_s=20)
    assert result["rss_mb"] == {"at_warmup": 100, "peak": 110.5, "end": 108}
    assert result["rss_growth_percent"] == 10.5
    row = rows({"processes": {"locust": result}})[0]
    assert row[0] == "soak: locust" and row[1].startswith("GREW: RSS 100→110.5 MB (+10.5 %)")


def test_the_trend_has_a_value_a_minute() -> None:
    samples = [Sample(at_s=60 + 5.5 * i, rss_mb=100 + i, fds=7, threads=7) for i in range(60)]
    assert judge(samples, warmup_s=60)["rss_mb_by_minute"] == [100, 111, 122, 133, 144, 155]


def test_too_few_samples_is_not_a_result() -> None:
    with pytest.raises(BenchError, match="only 1 samples after the first 20 s"):
        judge(_series([40, 80, 100]), warmup_s=20)


def test_the_soak_spec_is_one_long_step_without_faults(tmp_path: Path) -> None:
    path = tmp_path / "soak.yaml"
    path.write_text(SPEC.format(users=100, seconds=600))
    spec = load_experiment(path)
    plan = build_plan(spec)
    assert [step.users for step in plan.steps] == [100] and spec.faults == []
    assert plan.steps[0].end_s == 600
