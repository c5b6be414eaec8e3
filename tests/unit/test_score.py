"""harness.score: the resilience score from verdicts, weighted by load and fault (table-driven)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.journal import Journal
from harness.record import StepRecord, ToxicView
from harness.report.markdown import render_markdown
from harness.results import write_results
from harness.score import Score, score_steps, step_weights
from harness.slo import Verdict

PASS, FAIL, INC, NO_DATA = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NO_DATA


def toxic(type: str, link: str = "clickhouse", toxicity: float = 1.0, **attributes: int) -> ToxicView:
    return ToxicView(link=link, type=type, stream="downstream", toxicity=toxicity, attributes=attributes)


def step(index: int, users: int, slo: dict[str, Verdict], toxics: list[ToxicView] | None = None) -> StepRecord:
    return StepRecord(index=index, users=users, toxics=toxics or [], window=None, tiers={}, slo=slo, reasons={},
                      flags=[], generator_cpu_percent=None)


LAT50, LAT400 = toxic("latency", latency=50, jitter=0), toxic("latency", latency=400, jitter=0)


@pytest.mark.parametrize(
    ("steps", "value"),
    [
        ([step(1, 10, {"redis": PASS, "clickhouse": PASS})], 100.0),
        ([step(1, 10, {"redis": FAIL, "clickhouse": FAIL})], 0.0),
        # load: 5 of 10 users weighs 0.5, the top step 1 → 0.5 / 1.5
        ([step(1, 5, {"redis": PASS}), step(2, 10, {"redis": FAIL})], 33.3),
        ([step(1, 5, {"redis": FAIL}), step(2, 10, {"redis": PASS})], 66.7),
        # fault: the run's worst fault doubles a step's weight → 1 / (1 + 2)
        ([step(1, 10, {"redis": PASS}), step(2, 10, {"redis": FAIL}, [LAT400])], 33.3),
        # relative to the worst of its link and type: 50 of 400 ms → 1.125; 400 → 2
        ([step(1, 10, {"redis": PASS}, [LAT50]), step(2, 10, {"redis": FAIL}, [LAT400])], 36.0),
        # jitter counts into a latency's magnitude: 100 + 100 is the worst, 100 + 0 half of it → 1.5 vs 2
        ([step(1, 10, {"redis": PASS}, [toxic("latency", latency=100, jitter=0)]),
          step(2, 10, {"redis": FAIL}, [toxic("latency", latency=100, jitter=100)])], 42.9),
        # bandwidth: less is worse; 1000 KB/s is a tenth of the worst (100) → 1.1 vs 2
        ([step(1, 10, {"redis": PASS}, [toxic("bandwidth", rate=1000)]),
          step(2, 10, {"redis": FAIL}, [toxic("bandwidth", rate=100)])], 35.5),
        # toxicity scales it: half the connections → 1.5 vs 2
        ([step(1, 10, {"redis": PASS}, [toxic("latency", toxicity=0.5, latency=400, jitter=0)]),
          step(2, 10, {"redis": FAIL}, [LAT400])], 42.9),
        # no single number orders a link down: on is 1 → 2 vs 1
        ([step(1, 10, {"redis": PASS}, [toxic("down")]), step(2, 10, {"redis": FAIL})], 66.7),
        # magnitudes compare per link: 5 ms on redis is redis's worst, whatever clickhouse had
        ([step(1, 10, {"redis": PASS}, [toxic("latency", link="redis", latency=5, jitter=0)]),
          step(2, 10, {"redis": FAIL}, [LAT400])], 50.0),
        # a step's fault is its worst toxic
        ([step(1, 10, {"redis": PASS}, [LAT50, toxic("down", link="redis")]), step(2, 10, {"redis": FAIL})], 66.7),
        # inconclusive and no-data are not judgements: left out
        ([step(1, 10, {"redis": PASS, "clickhouse": INC}), step(2, 10, {"redis": NO_DATA})], 100.0),
        ([step(1, 10, {"redis": INC}), step(2, 10, {"redis": NO_DATA})], None),
        ([], None),
    ],
)
def test_score_value(steps: list[StepRecord], value: float | None) -> None:
    assert score_steps(steps).value == value


def test_counts_are_kept_beside_the_score() -> None:
    score = score_steps([step(1, 5, {"redis": PASS, "clickhouse": INC}),
                         step(2, 10, {"redis": FAIL, "clickhouse": NO_DATA}),
                         step(3, 10, {"redis": PASS, "clickhouse": PASS})])
    assert (score.held, score.failed, score.inconclusive, score.no_data) == (3, 1, 1, 1)
    assert (score.held_weight, score.judged_weight) == (2.5, 3.5)
    assert score.value == 71.4
    assert score.by_tier == {"clickhouse": 100.0, "redis": 60.0}


@pytest.mark.parametrize(
    ("steps", "weights"),
    [
        ([step(1, 5, {}), step(2, 25, {}), step(3, 100, {})], {1: 0.05, 2: 0.25, 3: 1.0}),
        ([step(1, 50, {}, [LAT50]), step(2, 100, {}, [LAT400])], {1: 0.5625, 2: 2.0}),
        # a zero-latency toxic is no fault at all, and cannot divide by zero
        ([step(1, 10, {}, [toxic("latency", latency=0, jitter=0)])], {1: 1.0}),
        ([step(1, 10, {}, [toxic("timeout", timeout=0)]), step(2, 10, {}, [toxic("slicer", average_size=1)])],
         {1: 2.0, 2: 2.0}),
    ],
)
def test_step_weights(steps: list[StepRecord], weights: dict[int, float]) -> None:
    assert step_weights(steps) == pytest.approx(weights)


@pytest.mark.parametrize(
    ("score", "sentence"),
    [
        (Score(value=71.4, held=3, failed=1, inconclusive=1, no_data=0, held_weight=2.5, judged_weight=3.5),
         "Resilience score: 71.4/100 (3 step × SLO verdicts held, 1 failed, weighted by load and fault; "
         "not judged, so not counted: 1 inconclusive, 0 no-data)"),
        (Score(value=100.0, held=4, failed=0, inconclusive=0, no_data=0, held_weight=4, judged_weight=4),
         "Resilience score: 100/100 (4 step × SLO verdicts held, 0 failed, weighted by load and fault)"),
        (Score(value=None, held=0, failed=0, inconclusive=2, no_data=1, held_weight=0, judged_weight=0),
         "Resilience score: none (no SLO verdict held or failed; not judged, so not counted: 2 inconclusive, "
         "1 no-data)"),
    ],
)
def test_sentence(score: Score, sentence: str) -> None:
    assert score.sentence() == sentence


def test_summary_json_carries_the_score(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append("run-start", experiment="x", run_id="r", backend="local", planned_steps=2, slos={})
    journal.append("step", record=step(1, 5, {"redis": PASS}))
    journal.append("step", record=step(2, 10, {"redis": FAIL}, [LAT400]))
    journal.append("run-end", status="completed", reason=None)
    summary = write_results(tmp_path)
    score = json.loads((tmp_path / "summary.json").read_text())["score"]
    assert score["value"] == 20.0  # 0.5 held of 0.5 + 2
    assert (score["held"], score["failed"], score["inconclusive"], score["no_data"]) == (1, 1, 0, 0)
    assert score["definition"].startswith("100 × Σ weight of the step × SLO verdicts held")
    # report.md opens with it, before the verdict
    lines = render_markdown(summary).splitlines()
    assert lines[2].startswith("**Resilience score: 20/100** (1 step × SLO verdicts held, 1 failed")
    assert lines[4].startswith("**Verdict: FAIL**")
