"""Experiment spec: YAML → validated, typed model.

Every problem in a file is reported at once, each with its field path
(``ramp.users.2: …``), as one SpecError. Nothing past this module sees raw
YAML data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.errors import SpecError
from harness.tiers import TIERS, Tier
from toxics.fault import Fault

EXPERIMENTS_DIR = Path(__file__).resolve().parent.parent / "experiments"
SLO_DEFAULTS_FILE = "slos.yaml"
MIN_STEP_S = 2.0

PERCENTILE_KEYS = {"p50_ms": 50.0, "p90_ms": 90.0, "p95_ms": 95.0, "p99_ms": 99.0, "p999_ms": 99.9}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _at_least_one_user(users: int) -> int:
    if users < 1:
        raise ValueError(f"must be at least 1, got {users}")
    return users


class Ramp(_Strict):
    """The load steps: one step per entry of ``users``."""

    users: list[Annotated[int, AfterValidator(_at_least_one_user)]] = Field(min_length=1)
    spawn_rate: float = Field(default=10.0, gt=0, description="users started per second")
    step_s: float = Field(default=60.0, gt=0, description="length of each step")
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


class Experiment(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    description: str = ""
    ramp: Ramp
    faults: list[Fault] = Field(default_factory=list)
    slos: dict[Tier, TierSlo] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _levels_match_steps(self) -> Experiment:
        problems = level_count_problems(self.model_dump(mode="python"))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def with_step_seconds(self, step_s: float) -> Experiment:
        """Shorten (or lengthen) every step, keeping a quarter of it at most for settling."""
        if step_s < MIN_STEP_S:
            raise SpecError(f"--step-seconds must be at least {MIN_STEP_S:g} (1 s to settle, 1 s to measure), "
                            f"got {step_s:g}")
        settle_s = min(self.ramp.settle_s, max(1.0, step_s / 4))
        ramp = self.ramp.model_copy(update={"step_s": float(step_s), "settle_s": settle_s})
        return self.model_copy(update={"ramp": ramp})


def load_experiment(path: Path) -> Experiment:
    """Read, merge SLO defaults into, and validate one experiment file."""
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError("the file must hold a mapping (name, ramp, faults, slos)", source=str(path))
    defaults = load_slo_defaults(path.parent)
    own = data.get("slos") or {}
    if isinstance(own, dict):
        data = {**data, "slos": {**defaults, **own}}
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        problems = format_validation_errors(exc)
    # The count check needs a valid ramp and faults, so pydantic skips it when
    # anything else is wrong; run it on the raw data to report it alongside.
    levels = level_count_problems(data)
    problems = [p for p in problems if not any(level in p for level in levels)] + levels
    raise SpecError(problems, source=str(path))


def level_count_problems(data: dict[str, Any]) -> list[str]:
    """One problem per fault whose levels do not match the ramp's steps."""
    ramp, faults = data.get("ramp"), data.get("faults")
    users = ramp.get("users") if isinstance(ramp, dict) else None
    if not isinstance(users, list) or not isinstance(faults, list):
        return []
    problems = []
    for position, fault in enumerate(faults):
        levels = fault.get("levels") if isinstance(fault, dict) else None
        if isinstance(levels, (list, tuple)) and len(levels) != len(users):
            problems.append(
                f"faults.{position}.levels: has {len(levels)} entries but ramp.users has {len(users)} "
                "steps: give one level per step (null for no toxic)"
            )
    return problems


def resolve_experiment(name_or_path: str) -> Path:
    """``clickhouse-latency`` → experiments/clickhouse-latency.yaml; a path stays a path."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or candidate.exists():
        if not candidate.is_file():
            raise SpecError(f"experiment file {name_or_path} does not exist")
        return candidate
    named = EXPERIMENTS_DIR / f"{name_or_path}.yaml"
    if not named.is_file():
        known = ", ".join(available_experiments()) or "none"
        raise SpecError(f"no experiment named {name_or_path!r} in {EXPERIMENTS_DIR} (known: {known})")
    return named


def available_experiments() -> list[str]:
    return sorted(p.stem for p in EXPERIMENTS_DIR.glob("*.yaml") if p.name != SLO_DEFAULTS_FILE)


def load_slo_defaults(folder: Path) -> dict[str, Any]:
    """SLO defaults: slos.yaml beside the experiment, else the catalogue's."""
    for candidate in (folder / SLO_DEFAULTS_FILE, EXPERIMENTS_DIR / SLO_DEFAULTS_FILE):
        if candidate.is_file():
            data = _read_yaml(candidate)
            slos = data.get("slos") if isinstance(data, dict) else None
            if not isinstance(slos, dict):
                raise SpecError("must hold a mapping under 'slos'", source=str(candidate))
            return slos
    return {}


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror}", source=str(path)) from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"not valid YAML: {where}{problem}", source=str(path)) from exc


def format_validation_errors(exc: ValidationError) -> list[str]:
    """Pydantic errors as ``field.path: message`` lines, in file order."""
    problems = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"] if not _is_internal(part))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{path}: {message}" if path else message)
    return problems


def _is_internal(part: object) -> bool:
    # pydantic puts validator names and "[key]" (a dict key's own error) into loc
    return isinstance(part, str) and (part.startswith("function-") or part == "[key]")


__all__ = ["Experiment", "Ramp", "TierSlo", "TIERS", "load_experiment", "resolve_experiment"]
