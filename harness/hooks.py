"""The user's own Python hooks: ``auth``, ``seed`` and ``users``, each named ``module:attribute``.

    auth:  "mypkg.auth:headers"        called once per simulated user, returns the headers it sends
    seed:  "mypkg.seed:run"            called once before the run with the stores' addresses (SeedTargets)
    users: "mypkg.load:FlowForgeUser"  a Locust User class that replaces the built-in users

They are named in the experiment (``hooks:``) or in the project file
(``flowforge.toml``, or ``[tool.flowforge]`` in pyproject.toml; see
``harness.project_file``); the experiment's win, hook by hook.

The engine never imports them: a users module imports Locust, which patches
the importing process with gevent, and any module may have side effects at
import. ``check_hooks`` therefore resolves every hook in a child Python
before anything starts (a hook that is not there is bad input: exit 2, the
hook and what was missing named), the Locust processes import ``auth`` and
``users`` themselves (``locustfiles.hooks``), and ``seed`` runs in a child
process of its own (``seed_main``), recorded in the
run's ownership ledger like every process the run starts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import SpecError, StackError

HOOK_NAMES = ("auth", "seed", "users")
# module.path:attribute — dotted module, one attribute (a class or a function).
HOOK_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
SEED_TARGETS_ENV = "FLOWFORGE_SEED_TARGETS"
CHECK_TIMEOUT_S = 60.0
SEED_TIMEOUT_S = 300.0


class Hooks(BaseModel):
    """Hooks as written in an experiment or a project file; each ``module.path:attribute``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    auth: str | None = Field(default=None, pattern=HOOK_PATTERN,
                             description="returns the headers (a mapping of str to str) each simulated user sends")
    seed: str | None = Field(default=None, pattern=HOOK_PATTERN,
                             description="called once before the run with the stores' addresses, to seed them")
    users: str | None = Field(default=None, pattern=HOOK_PATTERN,
                              description="a Locust User class replacing the built-in users (still recorded "
                                          "per step and tier)")

    def named(self) -> dict[str, str]:
        return {name: path for name in HOOK_NAMES if (path := getattr(self, name)) is not None}

    def over(self, base: Hooks) -> Hooks:
        """These hooks where set, ``base``'s elsewhere (the experiment's over the project file's)."""
        return Hooks(**{**base.named(), **self.named()})


class ResolvedHooks(BaseModel):
    """Hooks checked to exist, with the folders their modules are imported from."""

    model_config = ConfigDict(frozen=True)

    hooks: Hooks = Hooks()
    python_path: list[Path] = []

    def env(self) -> dict[str, str]:
        """PYTHONPATH for a process that imports the hooks: their folders first, then what was set."""
        parts = [str(p) for p in self.python_path] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                                      if p]
        return {"PYTHONPATH": os.pathsep.join(dict.fromkeys(parts))} if parts else {}


class SeedTargets(BaseModel):
    """What a seed hook is called with: where the backend answers and each store, never through a toxic."""

    model_config = ConfigDict(frozen=True)

    backend_url: str
    redis_url: str | None = None
    materialize_dsn: str | None = None
    clickhouse_url: str | None = None


def split_hook(path: str) -> tuple[str, str]:
    """``"a.b:c"`` → (``"a.b"``, ``"c"``); the pattern was checked when the hooks were read."""
    if re.match(HOOK_PATTERN, path) is None:
        raise ValueError(f"{path!r} is not module.path:attribute")
    module, _, attribute = path.partition(":")
    return module, attribute


# Runs in a child Python: imports each hook and says, per hook, what is wrong (None: nothing).
_CHECK = r"""
import importlib, json, sys
hooks = json.loads(sys.argv[1])
found = {}
for name, path in hooks.items():
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        inside = module_name == exc.name or module_name.startswith(f"{exc.name}.")
        found[name] = f"module {exc.name} not found" + ("" if inside else f" (importing {module_name})")
        continue
    except BaseException as exc:
        found[name] = f"importing {module_name} failed: {type(exc).__name__}: {exc}"
        continue
    if not hasattr(module, attribute):
        found[name] = f"module {module_name} has no attribute {attribute}"
        continue
    value = getattr(module, attribute)
    if name == "users":
        from locust import User
        if not (isinstance(value, type) and issubclass(value, User)):
            found[name] = f"{path} is not a Locust User class"
            continue
    elif not callable(value):
        found[name] = f"{path} is not callable"
        continue
    found[name] = None
print(json.dumps(found))
"""


def check_hooks(hooks: Hooks, python_path: list[Path], source: str) -> ResolvedHooks:
    """Every named hook imported in a child Python; all problems at once as one SpecError naming each hook."""
    resolved = ResolvedHooks(hooks=hooks, python_path=python_path)
    named = hooks.named()
    if not named:
        return resolved
    try:
        done = subprocess.run([sys.executable, "-c", _CHECK, json.dumps(named)], capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT_S, env={**os.environ, **resolved.env()})
    except subprocess.TimeoutExpired:
        raise SpecError(f"hooks: importing {', '.join(named.values())} took longer than {CHECK_TIMEOUT_S:g} s",
                        source=source) from None
    try:
        found: dict[str, str | None] = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SpecError(f"hooks: checking {', '.join(named.values())} failed: {last}", source=source) from None
    problems = [f"hooks.{name}: {named[name]!r}: {problem}" for name, problem in found.items() if problem]
    if problems:
        raise SpecError(problems, source=source)
    return resolved


def run_seed(resolved: ResolvedHooks, targets: SeedTargets, folder: Path, run_id: str) -> None:
    """The seed hook in a child process, recorded in the run's ledger; StackError with its log's tail if it fails."""
    from harness.stack.binaries import REPO_ROOT
    from harness.stack.ownership import Ledger
    from harness.stack.process import ManagedProcess, tail_file

    path = resolved.hooks.seed
    if path is None:
        return
    log = folder / "logs" / "seed-hook.log"
    env = {**resolved.env(), SEED_TARGETS_ENV: targets.model_dump_json()}
    # Through -c rather than -m: the hook's own ``from harness.hooks import SeedTargets`` is then this module.
    argv = [sys.executable, "-c", "import sys; from harness.hooks import seed_main; sys.exit(seed_main(sys.argv[1]))",
            path]
    process = ManagedProcess("seed-hook", argv, log, run_id, env=env, cwd=REPO_ROOT,
                             ledger=Ledger.in_folder(folder, run_id))
    process.start()
    try:
        code = process.wait(SEED_TIMEOUT_S)
    finally:
        # Also on a timeout or Ctrl-C while waiting: the seed never outlives the call.
        process.stop(timeout_s=5)
    if code != 0:
        what = f"did not finish within {SEED_TIMEOUT_S:g} s" if code is None else f"exited with code {code}"
        raise StackError(f"seed hook {path} {what}\nlast lines of {log}:\n{tail_file(log)}")


def seed_main(path: str) -> int:
    """Child side of ``run_seed``: import the hook, call it with the targets from the environment."""
    import importlib

    module, attribute = split_hook(path)
    function = getattr(importlib.import_module(module), attribute)
    function(SeedTargets.model_validate_json(os.environ[SEED_TARGETS_ENV]))
    return 0
