"""Experiment spec: YAML → validated, typed model.

Every problem in a file is reported at once, each with its field path
(``ramp.users.2: …``), as one SpecError. Nothing past this module sees raw
YAML data. Files are read by ``harness.specfile`` (whatever their bytes: data
or a SpecError with a line), and everything ``run`` would refuse is refused
here, before anything starts: bounds on users, steps and step length, faults
whose levels do not match the ramp, two faults making one toxic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.errors import SpecError
from harness.hooks import Hooks
from harness.overrides import apply_overrides
from harness.spec_errors import format_validation_errors
from harness.specfile import read_spec_file
from harness.stop_conditions import StopCondition, StoreCrash
from harness.suggest import did_you_mean
from harness.tiers import TIERS, Tier
from toxics.catalogue import CATALOGUE
from toxics.fault import Fault, duplicate_faults, fault_identity
from toxics.links import LINKS, STREAMS

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
SLO_DEFAULTS_FILE = "slos.yaml"
MIN_STEP_S = 2.0

# Bounds that catch typos (an extra zero or three) before anything starts:
# - 100,000 users: one core drives ~10k plain HTTP users' requests per second
#   and ~2,000 WebSocket viewers, so even a distributed run stays far below;
# - 1000 steps: at the shortest step (2 s) over half an hour, at the default
#   60 s almost 17 hours, and the plan prints a line per step;
# - a day per step: a run's steps last minutes; the plan clock and Toxiproxy's
#   integers stay far from overflowing.
MAX_USERS = 100_000
MAX_STEPS = 1000
MAX_STEP_S = 86_400.0
MAX_DESCRIPTION_CHARS = 1000

PERCENTILE_KEYS = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0, "p999_ms": 99.9}


class _Strict(BaseModel):
    # inf and nan pass ``gt=0`` (or fail it with a misleading message): refuse them by name.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _user_count(users: int) -> int:
    if users < 1:
        raise ValueError(f"must be at least 1, got {users}")
    if users > MAX_USERS:
        raise ValueError(f"must be at most {MAX_USERS} (a typo?), got {users}")
    return users


UserCount = Annotated[
    int,
    AfterValidator(_user_count),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_USERS}),
]


class Ramp(_Strict):
    """The load steps: one step per entry of ``users``."""

    users: list[UserCount] = Field(min_length=1, max_length=MAX_STEPS, description="users at each step")
    spawn_rate: float = Field(default=10.0, gt=0, le=MAX_USERS, description="users started per second")
    step_s: float = Field(default=60.0, gt=0, le=MAX_STEP_S, description="length of each step")
    settle_s: float = Field(default=10.0, ge=0, description="wait after a change before measuring")

    @field_validator("settle_s")
    @classmethod
    def _leaves_time_to_measure(cls, settle_s: float, info: ValidationInfo) -> float:
        step_s = info.data.get("step_s")
        if step_s is not None and settle_s >= step_s:
            raise ValueError(
                f"settle_s ({settle_s:g}) must be shorter than step_s ({step_s:g}): "
                "no time would be left to measure"
            )
        return settle_s


Schedule = Literal["per-step", "matrix", "phases"]


class Phases(_Strict):
    """The ``phases`` schedule, per user count: no fault, the fault, then recovery watched in short slices.

    Recovery is measured in slices of ``slice_s`` (no settling: the point is
    to see the tiers come back), and the time until each SLO holds again is
    recorded with that resolution.
    """

    before_s: float = Field(default=20.0, gt=0, le=MAX_STEP_S, description="no-fault window before the fault")
    fault_s: float = Field(default=30.0, gt=0, le=MAX_STEP_S, description="how long the fault is on")
    recovery_s: float = Field(default=30.0, gt=0, le=MAX_STEP_S, description="watched after the fault is removed")
    slice_s: float = Field(default=2.0, ge=1, le=60, description="resolution of the recovery time")


class TierSlo(_Strict):
    """One tier's objectives: a latency percentile bound and/or an error ratio bound.

    Each bound is strict: ``p99_ms: 1`` means the step's p99 must be below 1 ms.
    """

    p50_ms: float | None = Field(default=None, gt=0)
    p90_ms: float | None = Field(default=None, gt=0)
    p95_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)
    p999_ms: float | None = Field(default=None, gt=0)
    error_ratio: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _at_least_one(self) -> TierSlo:
        if not self.bounds() and self.error_ratio is None:
            raise ValueError("give at least one of p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, error_ratio")
        return self

    def bounds(self) -> dict[float, float]:
        """Latency bounds as {percentile: threshold_ms}."""
        return {
            percentile: getattr(self, key)
            for key, percentile in PERCENTILE_KEYS.items()
            if getattr(self, key) is not None
        }

    def describe(self) -> str:
        parts = [f"p{_pct(p)} < {ms:g} ms" for p, ms in self.bounds().items()]
        if self.error_ratio is not None:
            parts.append(f"errors < {self.error_ratio:.1%}")
        return ", ".join(parts)


def _pct(percentile: float) -> str:
    return f"{percentile:g}"


class SloDefaults(_Strict):
    """The SLO defaults file (experiments/slos.yaml, or slos.yaml beside an experiment)."""

    slos: dict[Tier, TierSlo]


class Experiment(_Strict):
    """One experiment: a step ramp of users, faults with a level per step, and the SLOs to judge.

    Each fault needs exactly one level per entry of ``ramp.users``, and no two
    faults may name the same link, type and stream (checked beyond this schema).
    """

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    description: str = Field(default="", max_length=MAX_DESCRIPTION_CHARS)
    ramp: Ramp
    schedule: Schedule = Field(
        default="per-step",
        description="per-step: level k at ramp step k; matrix: every level at every user count (a surface, "
                    "with no fault as its zero point); phases: before, during and after one fault level")
    phases: Phases = Field(default_factory=Phases, description="lengths of the phases schedule")
    faults: list[Fault] = Field(default_factory=list, description="several faults = several links faulted at once")
    slos: dict[Tier, TierSlo] = Field(default_factory=dict, description="per tier; overrides the SLO defaults file")
    stop_when: list[StopCondition] = Field(
        default_factory=list, max_length=100,
        description="stop the run early (status aborted, every fault reverted at once) when one of these holds, "
                    "checked on the live measurements while the run goes on")
    on_store_crash: StoreCrash = Field(
        default="continue",
        description="a store (or the backend) dying mid-run: continue (recorded, the steps after it flagged) or stop "
                    "(the run ends aborted)")
    hooks: Hooks = Field(
        default_factory=Hooks,
        description="the project's own Python (module.path:attribute): auth headers, a seed before the run, Locust "
                    "users replacing the built-in ones; over the project file's (flowforge.toml) hook by hook")

    @model_validator(mode="after")
    def _faults_fit_together(self) -> Experiment:
        errors = cross_field_errors(self.model_dump())
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, [
                {"type": PydanticCustomError("faults", message), "loc": loc, "input": None}
                for loc, message in errors
            ])
        return self

    def with_step_seconds(self, step_s: float) -> Experiment:
        """Shorten (or lengthen) every step, keeping a quarter of it at most for settling."""
        if not step_s >= MIN_STEP_S:  # also refuses nan
            raise SpecError(f"--step-seconds must be at least {MIN_STEP_S:g} (1 s to settle, 1 s to measure), "
                            f"got {step_s:g}")
        if step_s > MAX_STEP_S:
            raise SpecError(f"--step-seconds must be at most {MAX_STEP_S:g} (a day), got {step_s:g}")
        settle_s = min(self.ramp.settle_s, max(1.0, step_s / 4))
        ramp = self.ramp.model_copy(update={"step_s": float(step_s), "settle_s": settle_s})
        phases = self.phases.model_copy(update={"before_s": float(step_s), "fault_s": float(step_s),
                                                "recovery_s": float(step_s)})
        return self.model_copy(update={"ramp": ramp, "phases": phases})


def cross_field_errors(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Problems between fields, as (location, message): level counts against the ramp, duplicate faults.

    Works on raw data too, so these are reported alongside every other problem
    (pydantic skips model validators once any field is invalid).
    """
    ramp, faults = data.get("ramp"), data.get("faults")
    users = ramp.get("users") if isinstance(ramp, dict) else None
    if not isinstance(faults, list | tuple):
        return []
    errors: list[tuple[tuple[str | int, ...], str]] = []
    identities = []
    schedule = data.get("schedule", "per-step")
    counts = []
    for position, fault in enumerate(faults):
        fault = fault if isinstance(fault, dict) else {}
        levels = fault.get("levels")
        where = ("faults", position, "levels")
        if isinstance(levels, list | tuple):
            counts.append(len(levels))
            errors += _level_problems(schedule, where, levels, users)
        identities.append(_identity(fault))
    if schedule == "matrix" and len(set(counts)) > 1:
        errors.append((("faults",), f"a matrix moves every fault's levels together: they have {sorted(set(counts))} "
                                    "entries; give each fault the same number of levels"))
    phases = data.get("phases")
    ramp_settle = ramp.get("settle_s") if isinstance(ramp, dict) else None
    if schedule == "phases" and isinstance(phases, dict) and isinstance(ramp_settle, int | float):
        for key in ("before_s", "fault_s"):
            value = phases.get(key, Phases.model_fields[key].default)
            if isinstance(value, int | float) and value <= ramp_settle:
                errors.append((("phases", key), f"({value:g}) must be longer than ramp.settle_s ({ramp_settle:g}): "
                                                "no time would be left to measure"))
    for position, first in duplicate_faults(identities):
        link, type_, stream = identities[first] or ("", "", "")
        what = f"{type_} {stream}".strip()
        errors.append((("faults", position),
                       f"a second {what} fault on link {link} (the first is faults.{first}); "
                       "merge their levels into one fault"))
    return sorted(errors, key=lambda error: [str(part) for part in error[0]])


def _level_problems(schedule: object, where: tuple[str | int, ...], levels: list[Any] | tuple[Any, ...],
                    users: object) -> list[tuple[tuple[str | int, ...], str]]:
    """What the schedule asks of one fault's levels."""
    if schedule == "matrix":
        if any(level is None for level in levels):
            return [(where, "a matrix adds the no-fault level at every user count itself: no null levels")]
        return []
    if schedule == "phases":
        if len(levels) != 1 or levels[0] is None:
            return [(where, f"the phases schedule puts one level on during the fault phase: give exactly one "
                            f"(not null), not {len(levels)}")]
        return []
    if isinstance(users, list) and len(levels) != len(users):
        return [(where, f"has {len(levels)} entries but ramp.users has {len(users)} steps: "
                        "give one level per step (null for no toxic)")]
    return []


def _identity(fault: dict[str, Any]) -> tuple[str, str, str] | None:
    """The fault's identity if its link, type and stream are valid (else it has other problems)."""
    link, type_, stream = fault.get("link"), fault.get("type"), fault.get("stream", "downstream")
    if not all(isinstance(value, str) for value in (link, type_, stream)):
        return None
    if link in LINKS and type_ in CATALOGUE and stream in STREAMS:
        return fault_identity(link, type_, stream)
    return None


def load_experiment(path: Path, users: list[int] | None = None, sets: tuple[str, ...] = ()) -> Experiment:
    """Read, override (``--users``, ``--set``), merge SLO defaults into, and validate one experiment file."""
    source = str(path)
    if is_slo_defaults(path):
        raise SpecError("is the SLO defaults file (slos per tier), not an experiment; "
                        "`harness validate` checks it, run and plan need an experiment", source=source)
    data = read_spec_file(path)
    if data is None:
        raise SpecError("the file is empty; it must hold a mapping (name, ramp, faults, slos)", source=source)
    if not isinstance(data, dict):
        raise SpecError("the file must hold a mapping (name, ramp, faults, slos)", source=source)
    if users is not None or sets:
        data = apply_overrides(data, users, list(sets))
    own = data.get("slos")
    if own is None or isinstance(own, dict):
        data = {**data, "slos": {**load_slo_defaults(path.parent), **(own or {})}}
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_errors(exc, Experiment, data)
    cross = [f"{'.'.join(map(str, loc))}: {message}" for loc, message in cross_field_errors(data)]
    raise SpecError(problems + [problem for problem in cross if problem not in problems], source=source)


def is_slo_defaults(path: Path) -> bool:
    return path.name == SLO_DEFAULTS_FILE


def load_slo_defaults(folder: Path) -> dict[str, TierSlo]:
    """SLO defaults: slos.yaml beside the experiment, else the catalogue's."""
    for candidate in (folder / SLO_DEFAULTS_FILE, EXPERIMENTS_DIR / SLO_DEFAULTS_FILE):
        if os.path.lexists(candidate):  # a broken one is reported, not skipped
            return dict(load_slo_file(candidate).slos)
    return {}


def load_slo_file(path: Path) -> SloDefaults:
    """Read and validate an SLO defaults file."""
    data = read_spec_file(path)
    if not isinstance(data, dict) or not isinstance(data.get("slos"), dict):
        raise SpecError("must hold a mapping under 'slos'", source=str(path))
    try:
        return SloDefaults.model_validate(data)
    except ValidationError as exc:
        raise SpecError(format_validation_errors(exc, SloDefaults, data), source=str(path)) from exc


def resolve_experiment(name_or_path: str) -> Path:
    """``clickhouse-latency`` → experiments/clickhouse-latency.yaml; a path stays a path.

    A path is returned even when it is not a readable file (a directory, a
    symlink loop): reading it says exactly what is wrong. Only a path that is
    not there at all is refused here.
    """
    if not name_or_path.strip():
        raise SpecError("an experiment name or file is needed, got an empty one")
    candidate = Path(name_or_path)
    looks_like_path = candidate.suffix in {".yaml", ".yml"} or os.sep in name_or_path
    if looks_like_path or os.path.lexists(candidate):
        if not os.path.lexists(candidate):
            raise SpecError(f"experiment file {name_or_path} does not exist")
        return candidate
    named = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    if not named.is_file():
        known = available_experiments()
        hint = did_you_mean(name_or_path, known)
        raise SpecError(f"no experiment named {name_or_path!r} in {EXPERIMENTS_DIR}"
                        + (f"; {hint}" if hint else "") + f" (known: {', '.join(known) or 'none'})")
    return named


def available_experiments() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml") if p.name != SLO_DEFAULTS_FILE)


__all__ = [
    "Experiment", "Ramp", "SloDefaults", "TierSlo", "TIERS", "load_experiment", "load_slo_file", "resolve_experiment",
]
