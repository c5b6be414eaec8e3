"""harness.spec_errors: which field names are valid where, for the "did you mean" hints."""

from __future__ import annotations

from typing import Any

import pytest

from harness.spec import Experiment, SloDefaults
from harness.spec_errors import fields_at

FAULT = {"link": "redis", "type": "slicer", "levels": [None, {"average_size_bytes": 9}]}


@pytest.mark.parametrize(
    ("model", "loc", "data", "expected"),
    [
        (Experiment, (), {}, ["name", "description", "ramp", "schedule", "phases", "faults", "slos", "stop_when",
                            "on_store_crash", "hooks"]),
        (Experiment, ("ramp",), {}, ["users", "spawn_rate", "step_s", "settle_s"]),
        (Experiment, ("faults", 0), {"faults": [FAULT]}, ["link", "type", "stream", "toxicity", "levels"]),
        # a level's fields depend on its fault's type
        (Experiment, ("faults", 0, "levels", 1), {"faults": [FAULT]},
         ["average_size_bytes", "size_variation_bytes", "delay_us"]),
        (Experiment, ("faults", 0, "levels", 1), {"faults": [FAULT | {"type": "latency"}]},
         ["latency_ms", "jitter_ms"]),
        (Experiment, ("faults", 0, "levels", 1), {"faults": [FAULT | {"type": "nope"}]}, []),
        (Experiment, ("faults", 0, "levels", 1), {"faults": [FAULT | {"type": ["not", "hashable"]}]}, []),
        (Experiment, ("faults", 0, "levels", 1), {"faults": "not a list"}, []),
        (Experiment, ("slos", "redis"), {}, ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "error_ratio"]),
        (SloDefaults, ("slos", "http"), {}, ["p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "error_ratio"]),
        (Experiment, ("name",), {}, []),  # not a model: no field names
        (Experiment, ("ramp", "users", 0), {}, []),
        (Experiment, ("nope",), {}, []),
    ],
)
def test_fields_at(model: Any, loc: tuple[Any, ...], data: Any, expected: list[str]) -> None:
    assert fields_at(model, loc, data) == expected
