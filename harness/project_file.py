"""The project file: hooks a whole project shares, so experiments need not repeat them.

Looked for in the folder the harness runs from: ``flowforge.toml`` first,
else ``pyproject.toml`` with a ``[tool.flowforge]`` table (the way ruff and
pytest read theirs)::

    # flowforge.toml                        # pyproject.toml
    [hooks]                                 [tool.flowforge.hooks]
    auth = "mypkg.auth:headers"             auth = "mypkg.auth:headers"
    seed = "mypkg.seed:run"
    users = "mypkg.load:FlowForgeUser"

    python_path = ["src"]                   # optional, relative to the file; default: its folder

The hook modules are imported with the file's folder (or ``python_path``) on
the module search path. An experiment's own ``hooks:`` win, hook by hook.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import SpecError
from harness.hooks import Hooks
from harness.spec_errors import format_validation_errors

PROJECT_FILE = "flowforge.toml"
PYPROJECT_FILE = "pyproject.toml"


class ProjectSettings(BaseModel):
    """The harness's table of a project file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hooks: Hooks = Hooks()
    python_path: list[str] = Field(default_factory=list,
                                   description="folders, relative to the file, the hook modules are imported from")


class ProjectFile(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: Path | None = None  # None: no project file here
    settings: ProjectSettings = ProjectSettings()

    @property
    def python_path(self) -> list[Path]:
        if self.path is None:
            return []
        folder = self.path.parent
        return [(folder / entry).resolve() for entry in self.settings.python_path] or [folder.resolve()]


def find_project_file(folder: Path) -> ProjectFile:
    """``flowforge.toml`` in ``folder``, else pyproject.toml's ``[tool.flowforge]``, else nothing."""
    own = folder / PROJECT_FILE
    if own.is_file():
        return ProjectFile(path=own, settings=_settings(_read(own), own, ""))
    pyproject = folder / PYPROJECT_FILE
    if pyproject.is_file():
        table = _read(pyproject).get("tool", {}).get("flowforge")
        if table is not None:
            return ProjectFile(path=pyproject, settings=_settings(table, pyproject, "tool.flowforge."))
    return ProjectFile()


def _read(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read it: {exc.strerror}", source=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"not valid TOML: {exc}", source=str(path)) from exc


def _settings(table: object, path: Path, prefix: str) -> ProjectSettings:
    if not isinstance(table, dict):
        raise SpecError(f"{prefix or 'the file'} must be a table", source=str(path))
    try:
        return ProjectSettings.model_validate(table)
    except ValidationError as exc:
        raise SpecError([f"{prefix}{problem}" for problem in format_validation_errors(exc)],
                        source=str(path)) from exc
