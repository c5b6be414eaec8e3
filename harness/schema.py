"""The JSON Schema of the experiment format, generated from the spec's models (pure).

Committed as schema/experiment.schema.json so editors complete and check the
YAML (yaml-language-server: ``# yaml-language-server: $schema=../schema/experiment.schema.json``).
``harness schema`` rewrites it; a unit test fails when the committed file is stale.
What a schema cannot say (one level per step, no two faults on one link, type
and stream) is checked by ``harness validate``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.spec import Experiment

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema" / "experiment.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def experiment_schema() -> dict[str, Any]:
    return {"$schema": DIALECT, **Experiment.model_json_schema(mode="validation")}


def render_schema() -> str:
    """The schema as committed: stable key order, two-space indents, a final newline."""
    return json.dumps(experiment_schema(), indent=2, ensure_ascii=False) + "\n"
