"""``stop_when:`` in an experiment: when the run must stop early, reverting every fault.

A condition names a tier, one measure with a hard limit and how long the
limit must be passed (``{tier: http, error_ratio_above: 0.5, for_s: 5}``).
Unlike an SLO, which judges each step once, a stop condition is a guard: it
is checked on every live snapshot while the run goes on
(``harness.stop_tracker``), and when it fires the run ends ``aborted``.

What a store crash does to the run (``on_store_crash``) is said here too:
both are the experiment's own word on when to stop.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.tiers import Tier

# How long a condition may ask to be held: a step's longest length (harness.spec.MAX_STEP_S).
MAX_HOLD_S = 86_400.0
# The measures a condition may bound, each with the percentile it reads (None: the error ratio).
MEASURES: dict[str, float | None] = {
    "error_ratio_above": None,
    "p50_ms_above": 50.0,
    "p90_ms_above": 90.0,
    "p95_ms_above": 95.0,
    "p99_ms_above": 99.0,
    "p999_ms_above": 99.9,
}

StoreCrash = Literal["continue", "stop"]


class StopCondition(BaseModel):
    """Stop the run when ``tier``'s measure passes its limit for ``for_s`` seconds in a row.

    Exactly one measure per condition, so a fired condition says plainly what
    fired. Read on the faulted path's live snapshots (a few seconds each); a
    snapshot without samples of the tier does not count as passing the limit.
    """

    # Editors check the "exactly one measure" rule too.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              json_schema_extra={"oneOf": [{"required": [name]} for name in MEASURES]})

    tier: Tier
    error_ratio_above: float | None = Field(default=None, ge=0, lt=1, description="share of failed calls, 0–1")
    p50_ms_above: float | None = Field(default=None, gt=0)
    p90_ms_above: float | None = Field(default=None, gt=0)
    p95_ms_above: float | None = Field(default=None, gt=0)
    p99_ms_above: float | None = Field(default=None, gt=0)
    p999_ms_above: float | None = Field(default=None, gt=0)
    for_s: float = Field(default=0.0, ge=0, le=MAX_HOLD_S,
                         description="how long the limit must be passed without a break (0: the first snapshot)")

    @model_validator(mode="after")
    def _one_measure(self) -> StopCondition:
        given = [name for name in MEASURES if getattr(self, name) is not None]
        if len(given) != 1:
            names = ", ".join(MEASURES)
            raise ValueError(f"give exactly one of {names}" + (f"; got {', '.join(given)}" if given else ""))
        return self

    @property
    def measure(self) -> str:
        return next(name for name in MEASURES if getattr(self, name) is not None)

    @property
    def limit(self) -> float:
        value = getattr(self, self.measure)
        assert value is not None
        return float(value)

    @property
    def percentile(self) -> float | None:
        return MEASURES[self.measure]

    def describe(self) -> str:
        """``materialize error ratio above 50% for 5 s`` / ``clickhouse p95 above 3000 ms for 10 s``."""
        if self.percentile is None:
            what = f"error ratio above {self.limit:.0%}" if self.limit * 100 == round(self.limit * 100) \
                else f"error ratio above {self.limit:.2%}"
        else:
            what = f"p{self.percentile:g} above {self.limit:g} ms"
        held = f" for {self.for_s:g} s" if self.for_s else ""
        return f"{self.tier} {what}{held}"

    def format_value(self, value: float) -> str:
        return f"{value:.1%}" if self.percentile is None else f"{value:g} ms"
