"""harness.hooks: hook paths validated, each resolved in a child Python, problems named per hook."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import SpecError
from harness.hooks import Hooks, check_hooks, split_hook

REPO = Path(__file__).resolve().parents[2]
LEDGER = "tests.apps.ledger"


def write_package(folder: Path) -> Path:
    package = folder / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "auth.py").write_text("TOKEN = 'x'\n\ndef headers():\n    return {'Authorization': TOKEN}\n")
    (package / "broken.py").write_text("import not_installed_anywhere\n")
    return folder


@pytest.mark.parametrize("path", ["mypkg.auth", "mypkg.auth:", ":headers", "mypkg auth:headers", "a.:b", "a:b.c"])
def test_malformed_paths_are_refused_when_read(path: str) -> None:
    with pytest.raises(ValidationError, match="pattern"):
        Hooks(auth=path)
    with pytest.raises(ValueError, match="module.path:attribute"):
        split_hook(path)


def test_the_experiments_hooks_win_hook_by_hook() -> None:
    project = Hooks(auth="a.b:c", seed="a.b:seed")
    experiment = Hooks(auth="x.y:z")
    assert experiment.over(project) == Hooks(auth="x.y:z", seed="a.b:seed")


@pytest.mark.parametrize(("hooks", "problem"), [
    (Hooks(auth="nopkg.auth:headers"), "hooks.auth: 'nopkg.auth:headers': module nopkg not found"),
    (Hooks(auth="mypkg.missing:headers"), "hooks.auth: 'mypkg.missing:headers': module mypkg.missing not found"),
    (Hooks(seed="mypkg.auth:run"), "hooks.seed: 'mypkg.auth:run': module mypkg.auth has no attribute run"),
    (Hooks(seed="mypkg.auth:TOKEN"), "hooks.seed: 'mypkg.auth:TOKEN': mypkg.auth:TOKEN is not callable"),
    (Hooks(users="mypkg.auth:headers"), "hooks.users: 'mypkg.auth:headers': mypkg.auth:headers is not a Locust "
                                        "User class"),
    (Hooks(auth="mypkg.broken:headers"), "hooks.auth: 'mypkg.broken:headers': module not_installed_anywhere not "
                                         "found (importing mypkg.broken)"),
])
def test_each_missing_hook_is_bad_input_naming_it(tmp_path: Path, hooks: Hooks, problem: str) -> None:
    with pytest.raises(SpecError) as caught:
        check_hooks(hooks, [write_package(tmp_path)], "flowforge.toml")
    assert caught.value.problems == [problem]
    assert caught.value.exit_code == 2


def test_every_problem_at_once(tmp_path: Path) -> None:
    hooks = Hooks(auth="nopkg:a", seed="mypkg.auth:nothing", users="mypkg.auth:headers")
    with pytest.raises(SpecError) as caught:
        check_hooks(hooks, [write_package(tmp_path)], "x")
    assert [line.split(":")[0] for line in caught.value.problems] == ["hooks.auth", "hooks.seed", "hooks.users"]


def test_hooks_that_exist_resolve_without_importing_them_here() -> None:
    hooks = Hooks(auth=f"{LEDGER}.hooks:headers", seed=f"{LEDGER}.hooks:seed", users=f"{LEDGER}.load:LedgerUser")
    import sys

    before = set(sys.modules)
    resolved = check_hooks(hooks, [REPO], "x")
    assert resolved.hooks == hooks
    assert resolved.env()["PYTHONPATH"].split(":")[0] == str(REPO)
    # Importing a users module imports Locust, which would patch this process with gevent.
    assert "locust" not in set(sys.modules) - before


def test_the_examples_project_file_names_hooks_that_resolve() -> None:
    from harness.project_file import find_project_file

    project = find_project_file(REPO / "examples" / "your-stack")
    assert project.settings.hooks.named().keys() == {"auth", "seed", "users"}
    check_hooks(project.settings.hooks, project.python_path, str(project.path))


def test_the_seed_hook_runs_in_its_own_process_with_the_targets(tmp_path: Path) -> None:
    from harness.errors import StackError
    from harness.hooks import ResolvedHooks, SeedTargets, run_seed

    source = tmp_path / "src"
    source.mkdir()
    package = write_package(source)
    (package / "mypkg" / "seed.py").write_text(
        "from pathlib import Path\nfrom harness.hooks import SeedTargets\n\n"
        "def run(targets):\n    assert isinstance(targets, SeedTargets)\n"
        "    Path(targets.backend_url).write_text(targets.redis_url)\n\n"
        "def fails(targets):\n    raise RuntimeError('no such table: accounts')\n")
    out = tmp_path / "seeded.txt"
    targets = SeedTargets(backend_url=str(out), redis_url="redis://127.0.0.1:1/0")
    run = tmp_path / "run"
    run_seed(ResolvedHooks(hooks=Hooks(seed="mypkg.seed:run"), python_path=[package]), targets, run, "seed-test")
    assert out.read_text() == "redis://127.0.0.1:1/0"
    with pytest.raises(StackError, match=r"(?s)seed hook mypkg.seed:fails exited with code 1.*no such table"):
        run_seed(ResolvedHooks(hooks=Hooks(seed="mypkg.seed:fails"), python_path=[package]), targets, run,
                 "seed-test")
