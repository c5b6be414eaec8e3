"""harness.project_file: flowforge.toml, else pyproject's [tool.flowforge], else nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import SpecError
from harness.hooks import Hooks
from harness.project_file import find_project_file


def test_flowforge_toml_is_read_and_its_folder_is_the_import_root(tmp_path: Path) -> None:
    (tmp_path / "flowforge.toml").write_text('[hooks]\nauth = "mypkg.auth:headers"\n')
    found = find_project_file(tmp_path)
    assert found.path == tmp_path / "flowforge.toml"
    assert found.settings.hooks == Hooks(auth="mypkg.auth:headers")
    assert found.python_path == [tmp_path.resolve()]


def test_pyproject_tool_table_with_a_python_path(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.flowforge]\npython_path = ["src"]\n\n'
                                             '[tool.flowforge.hooks]\nseed = "mypkg.seed:run"\n')
    found = find_project_file(tmp_path)
    assert found.settings.hooks == Hooks(seed="mypkg.seed:run")
    assert found.python_path == [(tmp_path / "src").resolve()]


def test_flowforge_toml_comes_before_pyproject(tmp_path: Path) -> None:
    (tmp_path / "flowforge.toml").write_text('[hooks]\nauth = "a.b:c"\n')
    (tmp_path / "pyproject.toml").write_text('[tool.flowforge.hooks]\nauth = "x.y:z"\n')
    assert find_project_file(tmp_path).settings.hooks.auth == "a.b:c"


def test_no_project_file_means_no_hooks(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    found = find_project_file(tmp_path)
    assert found.path is None and found.settings.hooks == Hooks() and found.python_path == []


@pytest.mark.parametrize(("name", "text", "problem"), [
    ("flowforge.toml", "[hooks\n", "not valid TOML"),
    ("flowforge.toml", '[hooks]\nauht = "a.b:c"\n', "hooks.auht: unknown field"),
    ("flowforge.toml", '[hooks]\nauth = "a.b"\n', "hooks.auth: String should match pattern"),
    ("pyproject.toml", '[tool.flowforge]\nhook = 1\n', "tool.flowforge.hook: unknown field"),
    ("pyproject.toml", '[tool]\nflowforge = 3\n', "tool.flowforge. must be a table"),
])
def test_a_bad_project_file_is_bad_input(tmp_path: Path, name: str, text: str, problem: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(SpecError) as caught:
        find_project_file(tmp_path)
    assert caught.value.source == str(tmp_path / name)
    assert any(problem in line for line in caught.value.problems), caught.value.problems
