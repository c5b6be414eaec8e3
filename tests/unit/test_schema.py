"""harness.schema: the committed JSON Schema is the one the models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.schema import SCHEMA_FILE, experiment_schema, render_schema
from toxics.catalogue import CATALOGUE


def test_committed_schema_is_not_stale() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "schema/experiment.schema.json is stale: run `.venv/bin/harness schema` and commit it")


def test_schema_knows_every_toxic_type_and_its_levels() -> None:
    schema = experiment_schema()
    fault = schema["$defs"]["Fault"]
    assert fault["properties"]["type"]["enum"] == list(CATALOGUE)
    rules = {rule["if"]["properties"]["type"]["const"]: rule["then"] for rule in fault["allOf"]}
    assert list(rules) == list(CATALOGUE)
    latency = rules["latency"]["properties"]["levels"]["items"]["anyOf"][0]
    assert latency["required"] == ["latency_ms"] and latency["additionalProperties"] is False
    down = rules["down"]
    assert {"const": True} in down["properties"]["levels"]["items"]["anyOf"][0]["anyOf"]
    assert down["not"] == {"required": ["stream"]} and down["properties"]["toxicity"] == {"const": 1}


def test_schema_carries_the_bounds() -> None:
    ramp = experiment_schema()["$defs"]["Ramp"]["properties"]
    assert ramp["users"]["maxItems"] == 1000
    assert ramp["users"]["items"] == {"type": "integer", "minimum": 1, "maximum": 100000}
    assert ramp["step_s"]["maximum"] == 86400
    assert experiment_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_harness_schema_writes_and_prints_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "experiment.schema.json"
    main(["schema", "--output", str(target)])
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert target.read_text(encoding="utf-8") == render_schema()
    main(["schema", "-o", "-"])
    assert json.loads(capsys.readouterr().out) == experiment_schema()
