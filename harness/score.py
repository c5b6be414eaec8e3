"""The run's resilience score, 0–100, from its verdicts (pure).

Defined openly, so a reader can recompute it from ``summary.json`` by hand:

    score = 100 × Σ weight(held) / Σ weight(held + failed)

over every step × SLO verdict of the run, where a step's weight is

    weight = load × (1 + fault)
    load   = the step's users / the most users of any step in the run      (0–1]
    fault  = the step's worst toxic: toxicity × its magnitude relative to the
             worst of the same type on the same link in the run            [0–1]
             (0 without a toxic)

A toxic's magnitude is the one number that makes it worse: latency +
jitter (ms) and slow_close's delay grow worse upwards; bandwidth's rate and
limit_data's bytes downwards (the smallest in the run is the worst, 1);
timeout, reset_peer, slicer and a link down count as 1 when on.

So holding an SLO at the ramp's top under the run's worst fault weighs 2,
at the top without a fault 1, at a tenth of the load 0.1. Inconclusive and
no-data verdicts are not judgements: they are left out of both sums and
counted beside the score; with nothing held or failed the score is ``None``,
never 0 or 100. A partial run's score covers the steps it reached.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from harness.record import StepRecord, ToxicView
from harness.slo import Verdict

DEFINITION = ("100 × Σ weight of the step × SLO verdicts held ÷ Σ weight of those held or failed; a step's weight "
              "= its users ÷ the run's most users × (1 + its worst toxic's toxicity × magnitude as a share of the "
              "run's worst of that type on that link); inconclusive and no-data verdicts left out, counted beside it")

# Per toxic type: the attributes whose sum is its magnitude, and whether more of it is worse.
# Types not listed have no one number that orders them: on is the worst they get (1).
MAGNITUDES: dict[str, tuple[tuple[str, ...], bool]] = {
    "latency": (("latency", "jitter"), True),
    "slow_close": (("delay",), True),
    "bandwidth": (("rate",), False),
    "limit_data": (("bytes",), False),
}


class Score(BaseModel):
    """One run's score and what it rests on."""

    model_config = ConfigDict(frozen=True)

    value: float | None  # 0–100, one decimal; None when no verdict was held or failed
    held: int
    failed: int
    inconclusive: int
    no_data: int
    held_weight: float
    judged_weight: float  # held + failed
    by_tier: dict[str, float | None] = {}  # the same score over one tier's verdicts
    definition: str = DEFINITION

    def shown(self) -> str:
        """``72.5/100``, or ``–`` when nothing was judged."""
        return "–" if self.value is None else f"{self.value:g}/100"

    def headline(self) -> str:
        return f"Resilience score: {self.shown() if self.value is not None else 'none'}"

    def detail(self) -> str:
        """What the score rests on and what was left out of it."""
        left_out = (f"not judged, so not counted: {self.inconclusive} inconclusive, {self.no_data} no-data"
                    if self.inconclusive or self.no_data else "")
        if self.value is None:
            return "no SLO verdict held or failed" + (f"; {left_out}" if left_out else "")
        return (f"{self.held} step × SLO verdicts held, {self.failed} failed, weighted by load and fault"
                + (f"; {left_out}" if left_out else ""))

    def sentence(self) -> str:
        """``Resilience score: 72.5/100 (12 step × SLO verdicts held, 3 failed, …)``."""
        return f"{self.headline()} ({self.detail()})"


def score_steps(steps: Sequence[StepRecord]) -> Score:
    """The score of a run's steps (in any order); see the module's docstring for the definition."""
    weights = step_weights(steps)
    counts = dict.fromkeys(Verdict, 0)
    held_weight = judged_weight = 0.0
    tier_weights: dict[str, list[float]] = {}  # tier → [held, judged]
    for step in steps:
        for tier, verdict in step.slo.items():
            counts[verdict] += 1
            sums = tier_weights.setdefault(tier, [0.0, 0.0])
            if verdict not in (Verdict.PASS, Verdict.FAIL):
                continue
            weight = weights[step.index]
            judged_weight += weight
            sums[1] += weight
            if verdict == Verdict.PASS:
                held_weight += weight
                sums[0] += weight
    return Score(value=_percent(held_weight, judged_weight), held=counts[Verdict.PASS],
                 failed=counts[Verdict.FAIL], inconclusive=counts[Verdict.INCONCLUSIVE],
                 no_data=counts[Verdict.NO_DATA], held_weight=round(held_weight, 6),
                 judged_weight=round(judged_weight, 6),
                 by_tier={tier: _percent(*sums) for tier, sums in sorted(tier_weights.items())})


def step_weights(steps: Sequence[StepRecord]) -> dict[int, float]:
    """Each step's weight by its index: load × (1 + fault)."""
    most_users = max((step.users for step in steps), default=0)
    worst = _worst_magnitudes(steps)
    weights = {}
    for step in steps:
        load = step.users / most_users if most_users > 0 else 1.0
        fault = max((_severity(toxic, worst) for toxic in step.toxics), default=0.0)
        weights[step.index] = load * (1.0 + fault)
    return weights


def _magnitude(toxic: ToxicView) -> float | None:
    fields, _ = MAGNITUDES.get(toxic.type, ((), True))
    return float(sum(toxic.attributes.get(name, 0) for name in fields)) if fields else None


def _worst_magnitudes(steps: Sequence[StepRecord]) -> dict[tuple[str, str], float]:
    """Per (link, type) with a magnitude: the worst value in the run (largest, or smallest if less is worse)."""
    worst: dict[tuple[str, str], float] = {}
    for toxic in (toxic for step in steps for toxic in step.toxics):
        value = _magnitude(toxic)
        if value is None:
            continue
        key = (toxic.link, toxic.type)
        worse_up = MAGNITUDES[toxic.type][1]
        seen = worst.get(key)
        worst[key] = value if seen is None else (max(seen, value) if worse_up else min(seen, value))
    return worst


def _severity(toxic: ToxicView, worst: dict[tuple[str, str], float]) -> float:
    """toxicity × magnitude relative to the run's worst of its link and type, in [0, 1]."""
    value = _magnitude(toxic)
    if value is None:
        relative = 1.0
    elif MAGNITUDES[toxic.type][1]:
        top = worst[(toxic.link, toxic.type)]
        relative = value / top if top > 0 else 0.0
    else:
        relative = worst[(toxic.link, toxic.type)] / value if value > 0 else 1.0
    return min(1.0, max(0.0, toxic.toxicity)) * relative


def _percent(part: float, whole: float) -> float | None:
    return round(100.0 * part / whole, 1) if whole > 0 else None
