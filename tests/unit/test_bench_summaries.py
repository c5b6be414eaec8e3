"""harness.bench: reading harness runs' summary.json (fidelity, stability, host noise) and the experiments it writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.bench.errors import BenchError
from harness.bench.fidelity import experiment, read_link
from harness.bench.harness_runs import HarnessRun, require
from harness.bench.host_noise import at_users
from harness.bench.stability import verdicts_of
from harness.plan import build_plan
from harness.spec import load_experiment

LEVELS = (1, 5, 50)


def _step(index: int, users: int = 5, latency: float | None = None, added: dict[str, float] | None = None,
          slo: dict[str, str] | None = None, hiccup: tuple[float, float] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"index": index, "users": users, "tiers": {}, "links": {}, "slo": slo or {}}
    if latency is not None:
        step["links"]["redis"] = {"requested": f"redis latency {latency}", "requested_latency_ms": latency,
                                  "effective_added_ms": (added or {}).get("p50")}
    if added is not None:
        step["tiers"]["redis"] = {"added_ms": added}
    if hiccup is not None:
        step["host"] = {"hiccup_p99_ms": hiccup[0], "hiccup_p999_ms": hiccup[1]}
    return step


def _fidelity_summary() -> dict[str, Any]:
    steps = [_step(1)] + [_step(k + 2, latency=float(level), added={"p50": level + 0.4, "p95": level + 0.9,
                                                                      "p99": level + 2.0})
                          for k, level in enumerate(LEVELS)]
    return {"steps": steps}


def test_fidelity_experiment_is_a_valid_spec(tmp_path: Path) -> None:
    path = tmp_path / "redis.yaml"
    path.write_text(yaml.safe_dump(experiment("redis", LEVELS, users=5, step_s=10.0)))
    plan = build_plan(load_experiment(path).with_step_seconds(10.0))
    assert [step.users for step in plan.steps] == [5, 5, 5, 5]
    assert plan.steps[0].toxics == []
    assert [step.toxics[0].attributes["latency"] for step in plan.steps[1:]] == list(LEVELS)


def test_fidelity_reads_requested_against_added() -> None:
    assert read_link(_fidelity_summary(), "redis", LEVELS) == {
        "1": {"requested_ms": 1, "added_p50_ms": 1.4, "added_p95_ms": 1.9},
        "5": {"requested_ms": 5, "added_p50_ms": 5.4, "added_p95_ms": 5.9},
        "50": {"requested_ms": 50, "added_p50_ms": 50.4, "added_p95_ms": 50.9},
    }


def test_fidelity_names_the_missing_key_and_keeps_the_other_levels() -> None:
    summary = _fidelity_summary()
    summary["steps"][2]["tiers"]["redis"] = {"count": 0, "added_ms": None}
    found = read_link(summary, "redis", LEVELS)
    assert found["5"] == {"requested_ms": 5, "error": "summary.json of bench-fidelity-redis has "
                                                      "steps[2].tiers.redis.added_ms = null (0 samples in the window)"}
    assert found["50"]["added_p50_ms"] == 50.4
    del summary["steps"][3]["links"]
    assert read_link(summary, "redis", LEVELS)["50"]["error"] == (
        "summary.json of bench-fidelity-redis has no steps[3].links")


def test_fidelity_refuses_a_step_that_asked_for_another_level() -> None:
    summary = _fidelity_summary()
    summary["steps"][1]["links"]["redis"]["requested_latency_ms"] = 7.0
    assert "step 2 asked Toxiproxy for 7.0 ms" in read_link(summary, "redis", LEVELS)["1"]["error"]


def test_require_walks_and_names_null() -> None:
    data = {"steps": [{"host": None}]}
    assert require(data, "steps", 0) == {"host": None}
    with pytest.raises(BenchError, match=r"has steps\[0\]\.host = null"):
        require(data, "steps", 0, "host", "hiccup_p99_ms")
    with pytest.raises(BenchError, match=r"has no steps\[3\]"):
        require(data, "steps", 3)


def _run(summary: dict[str, Any]) -> HarnessRun:
    return HarnessRun(label="baseline-1", folder=Path("/nowhere"), exit_code=0, summary=summary)


def test_verdicts_and_hiccups_of_a_baseline_run() -> None:
    run = _run({"steps": [_step(1, users=5, slo={"redis": "pass"}, hiccup=(0.2, 0.9)),
                          _step(2, users=100, slo={"redis": "fail", "http": "pass"}, hiccup=(1.5, 4.0))]})
    assert verdicts_of(run) == {"redis": {1: "pass", 2: "fail"}, "http": {2: "pass"}}
    assert at_users(run, 100) == {"p99_ms": 1.5, "p999_ms": 4.0}
    with pytest.raises(BenchError, match="no step at 50 users"):
        at_users(run, 50)
