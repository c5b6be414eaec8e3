"""harness.compare (and its console text): verdict changes, regressions, plan differences, from real models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.compare import Change, compare_runs, verdict_change
from harness.record import StepRecord
from harness.report.compare_text import comparison_lines, delta_text, ms_text
from harness.results import RunSummary
from harness.slo import Verdict
from tests.unit.synthetic_runs import (
    BASELINE_STEPS,
    FAIL,
    INC,
    NO_DATA,
    PASS,
    latency,
    measured,
    step,
    summary_of,
    write_run,
)


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (PASS, PASS, Change.SAME),
        (PASS, INC, Change.WORSE),
        (PASS, FAIL, Change.WORSE),
        (INC, FAIL, Change.WORSE),
        (FAIL, FAIL, Change.SAME),
        (INC, INC, Change.SAME),
        (FAIL, INC, Change.BETTER),
        (FAIL, PASS, Change.BETTER),
        (INC, PASS, Change.BETTER),
        # no-data, or a tier one run lacks, is never judged against anything
        (PASS, NO_DATA, Change.UNJUDGED),
        (NO_DATA, FAIL, Change.UNJUDGED),
        (NO_DATA, NO_DATA, Change.UNJUDGED),
        (None, FAIL, Change.UNJUDGED),
        (PASS, None, Change.UNJUDGED),
    ],
)
def test_verdict_change(before: Verdict | None, after: Verdict | None, change: Change) -> None:
    assert verdict_change(before, after) == change


def _runs(tmp_path: Path, after_steps: list[StepRecord], **after: Any) -> tuple[RunSummary, RunSummary]:
    a = summary_of(write_run(tmp_path / "a", BASELINE_STEPS))
    b = summary_of(write_run(tmp_path / "b", after_steps, **after))
    return a, b


def test_the_same_run_twice_has_no_regression(tmp_path: Path) -> None:
    a, b = _runs(tmp_path, BASELINE_STEPS)
    comparison = compare_runs(a, b)
    assert not comparison.regressed
    assert comparison.plan_differences == []
    assert [(c.step, c.tier, c.change) for c in comparison.changes] == [
        (1, "clickhouse", Change.SAME), (1, "redis", Change.SAME),
        (2, "clickhouse", Change.SAME), (2, "redis", Change.SAME),
        (3, "clickhouse", Change.SAME), (3, "redis", Change.SAME),
    ]
    assert comparison.score_change == 0.0
    assert comparison.verdict_sentence() == "no verdict regressed"


def test_a_verdict_that_got_worse_is_a_regression(tmp_path: Path) -> None:
    worse = [
        BASELINE_STEPS[0],
        step(2, 10, {"redis": PASS, "clickhouse": FAIL},
             {"redis": measured(0.3, 0.6, 0.9), "clickhouse": measured(400, 560, 700)}, [latency(100)]),
        step(3, 10, {"redis": PASS, "clickhouse": INC},
             {"redis": measured(0.3, 0.6, 0.9), "clickhouse": measured(260, 480, 600)}, [latency(200)]),
    ]
    a, b = _runs(tmp_path, worse)
    comparison = compare_runs(a, b)
    assert comparison.regressed
    # pass → inconclusive is worse, but only --strict gates on it (host noise alone can do that).
    assert [r.describe() for r in comparison.regressions] == ["step 2 clickhouse: pass → fail"]
    assert [i.describe() for i in comparison.improvements] == ["step 3 redis: inconclusive → pass"]
    assert comparison.verdict_sentence() == ("REGRESSED: 1 verdict got worse: step 2 clickhouse: pass → fail "
                                             "(1 improved)")
    strict = compare_runs(a, b, strict=True)
    assert [r.describe() for r in strict.regressions] == ["step 2 clickhouse: pass → fail",
                                                          "step 3 clickhouse: pass → inconclusive"]
    assert strict.verdict_sentence() == ("REGRESSED: 2 verdicts got worse: step 2 clickhouse: pass → fail; "
                                         "step 3 clickhouse: pass → inconclusive (1 improved)")
    p95 = comparison.steps[1].tiers[0].percentiles["p95"]
    assert (p95.before_ms, p95.after_ms, p95.change_ms, p95.change_ratio) == (160, 560, 400, 2.5)
    # A: held 5 of 5 judged (score 100); B: clickhouse failed at weight 2 (10 users, worst fault 200 ms → 1.5)
    assert comparison.before.score == 100.0
    assert comparison.after.score is not None and comparison.score_change is not None
    assert comparison.score_change == pytest.approx(comparison.after.score - 100.0, abs=0.05)
    assert comparison.score_change < 0


def test_pass_to_inconclusive_alone_gates_only_when_strict(tmp_path: Path) -> None:
    weaker = [BASELINE_STEPS[0], BASELINE_STEPS[1],
              step(3, 10, {"redis": INC, "clickhouse": INC},
                   {"redis": measured(0.3, 0.6, 0.9), "clickhouse": measured(260, 480, 600)}, [latency(200)])]
    a, b = _runs(tmp_path, weaker)
    assert not compare_runs(a, b).regressed
    assert "became inconclusive" in compare_runs(a, b).verdict_sentence()
    assert compare_runs(a, b, strict=True).regressed


def test_no_data_is_never_a_regression(tmp_path: Path) -> None:
    lost = [step(s.index, s.users, dict.fromkeys(s.slo, NO_DATA), toxics=list(s.toxics)) for s in BASELINE_STEPS]
    a, b = _runs(tmp_path, lost)
    comparison = compare_runs(a, b)
    assert not comparison.regressed
    assert {c.change for c in comparison.changes} == {Change.UNJUDGED}
    assert comparison.after.score is None
    assert comparison.score_change is None
    assert comparison.score_sentence() == "score: 100/100 → none"


def test_differing_plans_are_said(tmp_path: Path) -> None:
    other = [
        step(1, 5, {"redis": PASS, "clickhouse": PASS}),
        step(2, 20, {"redis": PASS, "clickhouse": PASS}, toxics=[latency(300)]),
    ]
    a, b = _runs(tmp_path, other, status="interrupted", planned=3,
                 slos={"redis": "p99 < 2 ms", "clickhouse": "p95 < 500 ms"})
    comparison = compare_runs(a, b)
    assert comparison.plan_differences == [
        "run B has no step 3 (interrupted, 2 of 3 steps): not compared",
        "step 2: 10 users (A) and 20 (B)",
        "step 2: toxics clickhouse latency 100 ms downstream (A) and clickhouse latency 300 ms downstream (B)",
        "redis SLO: p99 < 1 ms (A) and p99 < 2 ms (B)",
    ]
    step3 = comparison.steps[2]
    assert (step3.users_before, step3.users_after) == (10, None)
    assert [(t.tier, t.before, t.after, t.change) for t in step3.tiers] == [
        ("clickhouse", PASS, None, Change.UNJUDGED), ("redis", INC, None, Change.UNJUDGED)]
    assert not comparison.regressed


def test_different_experiments_and_step_counts(tmp_path: Path) -> None:
    a, b = _runs(tmp_path, BASELINE_STEPS[:2], experiment="other", planned=2)
    differences = compare_runs(a, b).plan_differences
    assert differences[:3] == ["experiments differ: ch-latency (A) and other (B)",
                               "planned steps differ: 3 (A) and 2 (B)",
                               "run B has no step 3 (completed, 2 of 2 steps): not compared"]


def test_console_table(tmp_path: Path) -> None:
    worse = [BASELINE_STEPS[0], BASELINE_STEPS[1],
             step(3, 10, {"redis": FAIL, "clickhouse": PASS},
                  {"redis": measured(0.5, 1.2, 2.5), "clickhouse": measured(240, 300, 420)}, [latency(200)])]
    a, b = _runs(tmp_path, worse)
    lines = comparison_lines(compare_runs(a, b))
    assert lines[0] == "A: a (ch-latency, completed, verdict inconclusive, score 100/100)"
    assert lines[1].startswith("B: b (ch-latency, completed, verdict fail, score ")
    assert lines[2].startswith("score: 100/100 → ") and "(−" in lines[2]
    assert lines[3].split() == ["step", "users", "tier", "verdict", "A", "→", "B", "p50", "ms", "A", "→", "B",
                                "p95", "ms", "A", "→", "B", "p99", "ms", "A", "→", "B"]
    assert lines[-2].split() == ["3", "10", "redis", "inconclusive", "→", "fail", "REGRESSED", "0.4", "→", "0.5",
                                 "(+25%)", "0.8", "→", "1.2", "(+50%)", "1.1", "→", "2.5", "(×2.27)"]
    assert lines[-1] == "REGRESSED: 1 verdict got worse: step 3 redis: inconclusive → fail"
    assert len(lines) == 4 + 6 + 1


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (0.3124, "0.312"), (41.53, "41.5"), (1234.6, "1235"), (0.0, "0")],
)
def test_ms_text(value: float | None, text: str) -> None:
    assert ms_text(value) == text


def test_delta_text() -> None:
    from harness.compare import Delta

    assert delta_text(Delta(before_ms=40, after_ms=30)) == "40 → 30 (−25%)"
    assert delta_text(Delta(before_ms=40, after_ms=79)) == "40 → 79 (+98%)"
    assert delta_text(Delta(before_ms=4.36, after_ms=708)) == "4.36 → 708 (×162)"
    assert delta_text(Delta(before_ms=None, after_ms=30)) == "– → 30"
    assert delta_text(Delta(before_ms=0, after_ms=30)) == "0 → 30"
