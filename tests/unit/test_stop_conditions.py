"""harness.stop_conditions: ``stop_when`` and ``on_store_crash`` as a user writes them, every problem with its path."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.schema import experiment_schema
from harness.spec import load_experiment
from harness.stop_conditions import MEASURES, StopCondition

BASE = "name: x\nramp:\n  users: [5, 10]\n  step_s: 10\n  settle_s: 2\n"


def _load(tmp_path: Path, text: str):
    path = tmp_path / "exp.yaml"
    path.write_text(BASE + text, encoding="utf-8")
    return load_experiment(path)


def _problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        _load(tmp_path, text)
    return caught.value.problems


def test_the_issue_s_example_reads_as_written(tmp_path: Path) -> None:
    spec = _load(tmp_path, "stop_when: [{tier: http, error_ratio_above: 0.5, for_s: 5},\n"
                           "            {tier: clickhouse, p95_ms_above: 3000, for_s: 10}]\n"
                           "on_store_crash: stop\n")
    first, second = spec.stop_when
    assert (first.measure, first.limit, first.percentile, first.for_s) == ("error_ratio_above", 0.5, None, 5)
    assert (second.measure, second.limit, second.percentile) == ("p95_ms_above", 3000, 95.0)
    assert [c.describe() for c in spec.stop_when] == ["http error ratio above 50% for 5 s",
                                                      "clickhouse p95 above 3000 ms for 10 s"]
    assert spec.on_store_crash == "stop"


def test_defaults_stop_nothing_and_go_on_after_a_crash(tmp_path: Path) -> None:
    spec = _load(tmp_path, "")
    assert spec.stop_when == [] and spec.on_store_crash == "continue"


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("stop_when: [{tier: http}]\n",
                 ["stop_when.0: give exactly one of error_ratio_above, p50_ms_above, p90_ms_above, p95_ms_above, "
                  "p99_ms_above, p999_ms_above"], id="no-measure"),
    pytest.param("stop_when: [{tier: http, error_ratio_above: 0.1, p99_ms_above: 5}]\n",
                 ["stop_when.0: give exactly one of error_ratio_above, p50_ms_above, p90_ms_above, p95_ms_above, "
                  "p99_ms_above, p999_ms_above; got error_ratio_above, p99_ms_above"], id="two-measures"),
    pytest.param("stop_when: [{tier: http, error_ratio_above: 0.1}, {tier: clikhouse, p95_ms_above: 1}]\n",
                 ["stop_when.1.tier: Input should be 'redis', 'materialize', 'clickhouse', 'websocket' or 'http'; "
                  "did you mean 'clickhouse'?"], id="tier-typo"),
    pytest.param("stop_when: [{tier: http, error_ratio_above: 1.5, for_s: -1}]\n",
                 ["stop_when.0.error_ratio_above: Input should be less than 1",
                  "stop_when.0.for_s: Input should be greater than or equal to 0"], id="out-of-range"),
    pytest.param("stop_when: [{tier: redis, p99_ms_above: 0}]\n",
                 ["stop_when.0.p99_ms_above: Input should be greater than 0"], id="zero-latency"),
    pytest.param("stop_when: [{tier: redis, p99_ms_above: .inf}]\n",
                 ["stop_when.0.p99_ms_above: Input should be a finite number"], id="infinite"),
    pytest.param("stop_when: [{tier: redis, p99_above: 3}]\n",
                 ["stop_when.0.p99_above: unknown field; did you mean 'p99_ms_above'?",
                  ], id="unknown-field"),
    pytest.param("stop_when: {tier: redis, p99_ms_above: 3}\n",
                 ["stop_when: Input should be a valid list"], id="not-a-list"),
    pytest.param("on_store_crash: restart\n",
                 ["on_store_crash: Input should be 'continue' or 'stop'"], id="crash-choice"),
])
def test_problems_name_their_field(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert _problems(tmp_path, text) == expected


def test_the_schema_says_exactly_one_measure() -> None:
    definition = experiment_schema()["$defs"]["StopCondition"]
    assert definition["oneOf"] == [{"required": [name]} for name in MEASURES]
    assert definition["additionalProperties"] is False
    assert experiment_schema()["properties"]["on_store_crash"]["enum"] == ["continue", "stop"]


def test_values_in_the_condition_s_unit() -> None:
    assert StopCondition(tier="http", error_ratio_above=0.125).describe() == "http error ratio above 12.50%"
    assert StopCondition(tier="http", error_ratio_above=0.5).format_value(0.734) == "73.4%"
    assert StopCondition(tier="websocket", p999_ms_above=250.5, for_s=2.5).describe() == \
        "websocket p99.9 above 250.5 ms for 2.5 s"
