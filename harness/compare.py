"""Two runs side by side: per step and tier, the change in each percentile and verdict (pure).

Steps are matched by their index (step 3 of A with step 3 of B); where the
two plans differ there (users, toxics) or in an SLO, the comparison says so
beside the numbers, since a changed verdict may then be the plan's doing.

Verdicts are ordered

    pass  >  inconclusive  >  fail

and a **regression** is a verdict that became ``fail`` (pass → fail,
inconclusive → fail). pass → inconclusive is shown as worse but gates only
with ``strict``: on a noisy host a sub-millisecond SLO can go inconclusive
between two identical runs, and a CI gate must not fail by chance (the same
rule as ``harness run --strict``). ``no-data`` on
either side, or a tier or step only one run has, is never a regression nor
an improvement: nothing was judged to compare with. A run that stopped
early is compared over the steps it reached, and the missing steps are
named among the plan differences.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from harness.record import StepRecord, TierReport
from harness.results import RunSummary
from harness.score import score_steps
from harness.slo import Verdict

# Higher is better; no-data has no place in the order.
RANK = {Verdict.PASS: 2, Verdict.INCONCLUSIVE: 1, Verdict.FAIL: 0}
PERCENTILES = ("p50", "p95", "p99")


class Change(StrEnum):
    SAME = "same"
    BETTER = "better"
    WORSE = "worse"  # a regression
    UNJUDGED = "unjudged"  # no-data on a side, or the tier missing there: not compared


class Delta(BaseModel):
    """One percentile in A and in B (ms)."""

    model_config = ConfigDict(frozen=True)

    before_ms: float | None
    after_ms: float | None

    @property
    def change_ms(self) -> float | None:
        return None if self.before_ms is None or self.after_ms is None else self.after_ms - self.before_ms

    @property
    def change_ratio(self) -> float | None:
        """(B − A) / A; None when A is missing or zero."""
        change = self.change_ms
        return None if change is None or not self.before_ms else change / self.before_ms


class TierChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    step: int
    tier: str
    before: Verdict | None  # None: run A has no verdict for this tier in this step
    after: Verdict | None
    percentiles: dict[str, Delta]  # p50, p95, p99 of the faulted path
    change: Change

    @property
    def worse(self) -> bool:
        return self.change == Change.WORSE

    def regressed(self, strict: bool = False) -> bool:
        """Worse and now failing; with ``strict``, any worse verdict (pass → inconclusive too)."""
        return self.worse and (strict or self.after == Verdict.FAIL)

    def describe(self) -> str:
        """``step 2 redis: pass → fail``."""
        return f"step {self.step} {self.tier}: {_verdict(self.before)} → {_verdict(self.after)}"


class StepChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    users_before: int | None  # None: run A has no such step
    users_after: int | None
    toxics_before: list[str]
    toxics_after: list[str]
    tiers: list[TierChange]

    @property
    def same_plan(self) -> bool:
        return self.users_before == self.users_after and self.toxics_before == self.toxics_after


class RunSide(BaseModel):
    """What the comparison shows of each run."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    experiment: str
    status: str
    verdict: str
    score: float | None
    steps: int
    planned_steps: int

    def describe(self) -> str:
        score = "none" if self.score is None else f"{self.score:g}/100"
        reached = "" if self.steps >= self.planned_steps else f", {self.steps} of {self.planned_steps} steps"
        return f"{self.run_id} ({self.experiment}, {self.status}{reached}, verdict {self.verdict}, score {score})"


class Comparison(BaseModel):
    model_config = ConfigDict(frozen=True)

    before: RunSide  # run A, the baseline
    after: RunSide  # run B
    steps: list[StepChange]
    plan_differences: list[str]  # sentences; empty when both ran the same plan and SLOs
    strict: bool = False  # pass → inconclusive is a regression too

    @property
    def score_change(self) -> float | None:
        if self.before.score is None or self.after.score is None:
            return None
        return round(self.after.score - self.before.score, 1)

    @property
    def changes(self) -> list[TierChange]:
        return [tier for step in self.steps for tier in step.tiers]

    @property
    def regressions(self) -> list[TierChange]:
        return [change for change in self.changes if change.regressed(self.strict)]

    @property
    def improvements(self) -> list[TierChange]:
        return [change for change in self.changes if change.change == Change.BETTER]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def score_sentence(self) -> str:
        """``score: 100/100 → 66.7/100 (−33.3)``."""
        change = self.score_change
        shown = "" if change is None else f" ({'+' if change > 0 else '−' if change < 0 else '±'}{abs(change):g})"
        return f"score: {_score(self.before.score)} → {_score(self.after.score)}{shown}"

    def verdict_sentence(self) -> str:
        """What the comparison says, in a line: the regressions, or that there are none."""
        regressions, better = self.regressions, len(self.improvements)
        improved = f" ({better} improved)" if better else ""
        if regressions:
            count = f"{len(regressions)} verdict{'s' if len(regressions) > 1 else ''}"
            return f"REGRESSED: {count} got worse: " + "; ".join(r.describe() for r in regressions) + improved
        weakened = [change for change in self.changes if change.worse]
        if weakened:
            return (f"no verdict regressed ({len(weakened)} became inconclusive, which gates only with --strict: "
                    + "; ".join(change.describe() for change in weakened) + ")" + improved)
        return "no verdict regressed" + improved


def verdict_change(before: Verdict | None, after: Verdict | None) -> Change:
    if before is None or after is None or before not in RANK or after not in RANK:
        return Change.UNJUDGED
    if RANK[after] < RANK[before]:
        return Change.WORSE
    return Change.BETTER if RANK[after] > RANK[before] else Change.SAME


def compare_runs(before: RunSummary, after: RunSummary, strict: bool = False) -> Comparison:
    """Run B (``after``) against run A (``before``, the baseline); ``strict``: pass → inconclusive regresses."""
    steps_a = {step.index: step for step in before.steps}
    steps_b = {step.index: step for step in after.steps}
    steps = [_step_change(index, steps_a.get(index), steps_b.get(index))
             for index in sorted(set(steps_a) | set(steps_b))]
    return Comparison(before=_side(before), after=_side(after), steps=steps,
                      plan_differences=plan_differences(before, after, steps), strict=strict)


def plan_differences(before: RunSummary, after: RunSummary, steps: list[StepChange]) -> list[str]:
    """Where the two runs did not ask the same: experiment, steps, users, toxics, SLOs."""
    found = []
    if before.experiment != after.experiment:
        found.append(f"experiments differ: {before.experiment} (A) and {after.experiment} (B)")
    if before.planned_steps != after.planned_steps:
        found.append(f"planned steps differ: {before.planned_steps} (A) and {after.planned_steps} (B)")
    for run, label in ((before, "A"), (after, "B")):
        missing = [step.index for step in steps if (step.users_before if label == "A" else step.users_after) is None]
        if missing:
            found.append(f"run {label} has no step {_indexes(missing)} ({run.status.value}, "
                         f"{len(run.steps)} of {run.planned_steps} steps): not compared")
    for step in steps:
        if step.users_before is None or step.users_after is None or step.same_plan:
            continue
        if step.users_before != step.users_after:
            found.append(f"step {step.index}: {step.users_before} users (A) and {step.users_after} (B)")
        if step.toxics_before != step.toxics_after:
            found.append(f"step {step.index}: toxics {_toxics(step.toxics_before)} (A) and "
                         f"{_toxics(step.toxics_after)} (B)")
    for tier in sorted(set(before.slos) | set(after.slos)):
        slo_a, slo_b = before.slos.get(tier), after.slos.get(tier)
        if slo_a != slo_b:
            found.append(f"{tier} SLO: {slo_a or 'none'} (A) and {slo_b or 'none'} (B)")
    return found


def _step_change(index: int, a: StepRecord | None, b: StepRecord | None) -> StepChange:
    tiers = sorted(set(a.slo if a else {}) | set(b.slo if b else {}))
    return StepChange(
        index=index, users_before=a.users if a else None, users_after=b.users if b else None,
        toxics_before=[t.describe() for t in a.toxics] if a else [],
        toxics_after=[t.describe() for t in b.toxics] if b else [],
        tiers=[_tier_change(index, tier, a, b) for tier in tiers],
    )


def _tier_change(index: int, tier: str, a: StepRecord | None, b: StepRecord | None) -> TierChange:
    before = a.slo.get(tier) if a else None
    after = b.slo.get(tier) if b else None
    result_a = a.tiers.get(tier) if a else None
    result_b = b.tiers.get(tier) if b else None
    percentiles = {name: Delta(before_ms=_percentile(result_a, name), after_ms=_percentile(result_b, name))
                   for name in PERCENTILES}
    return TierChange(step=index, tier=tier, before=before, after=after, percentiles=percentiles,
                      change=verdict_change(before, after))


def _percentile(result: TierReport | None, name: str) -> float | None:
    if result is None or not result.count:
        return None
    value: float | None = getattr(result, f"{name}_ms")
    return value


def _side(run: RunSummary) -> RunSide:
    score = run.score or score_steps(run.steps)  # a summary from before runs had a score
    return RunSide(run_id=run.run_id, experiment=run.experiment, status=run.status.value,
                   verdict=run.verdict.value, score=score.value,
                   steps=len(run.steps), planned_steps=run.planned_steps)


def _verdict(verdict: Verdict | None) -> str:
    return "—" if verdict is None else verdict.value


def _score(value: float | None) -> str:
    return "none" if value is None else f"{value:g}/100"


def _toxics(toxics: list[str]) -> str:
    return "; ".join(toxics) if toxics else "none"


def _indexes(indexes: list[int]) -> str:
    if len(indexes) > 1 and indexes == list(range(indexes[0], indexes[-1] + 1)):
        return f"{indexes[0]}–{indexes[-1]}"
    return ", ".join(str(i) for i in indexes)
