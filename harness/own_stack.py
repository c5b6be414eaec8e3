"""Your own stack: ``--compose`` files, or a running stack (``--target`` + ``--toxiproxy``), and the hooks.

``prepare_own_stack`` turns the command line's flags, the project file and
the experiment's ``hooks:`` into one ``OwnStack``, checking everything a run
on it needs before anything starts (bad input is a SpecError, exit 2): the
flags go together, the compose files and their ``x-flowforge:`` section are
valid, a running stack answers and is loopback or a container of this
machine (else ``--allow-remote-target``), every hook imports. The runner
passes the result to ``make_stack`` (which backend, seeded or not) and the
load driver (the auth and users hooks).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import click

from harness.contract import LoadHooks
from harness.errors import SpecError
from harness.hooks import ResolvedHooks, check_hooks
from harness.project_file import find_project_file
from harness.spec import Experiment
from harness.stack.external import ExternalTargets
from harness.stack.reach import ALLOW_FLAG, remote_hosts
from harness.stack.readiness import HttpCheck, TcpCheck

EXTERNAL = "external"


@dataclass(frozen=True)
class StackFlags:
    """The run command's flags about whose stack to use."""

    compose: tuple[Path, ...] = ()
    target: str | None = None
    toxiproxy: str | None = None
    redis_url: str | None = None
    materialize_dsn: str | None = None
    clickhouse_url: str | None = None
    allow_remote_target: bool = False

    def stores(self) -> dict[str, str]:
        named = {"--redis-url": self.redis_url, "--materialize-dsn": self.materialize_dsn,
                 "--clickhouse-url": self.clickhouse_url}
        return {flag: url for flag, url in named.items() if url}


@dataclass(frozen=True)
class OwnStack:
    """What a run on the user's stack (or with the user's hooks) needs beyond the reference stack."""

    compose_files: list[Path] = field(default_factory=list)
    external: ExternalTargets | None = None
    hooks: ResolvedHooks = ResolvedHooks()

    def load_hooks(self) -> LoadHooks | None:
        named = self.hooks.hooks
        if named.auth is None and named.users is None:
            return None
        return LoadHooks(auth=named.auth, users=named.users, python_path=[str(p) for p in self.hooks.python_path])


def prepare_own_stack(flags: StackFlags, backend: str, offline: bool, workers: int, spec: Experiment,
                      cwd: Path) -> tuple[OwnStack | None, str]:
    """(what the run needs of the user's stack, or None for the reference stack alone; the backend to use)."""
    _flags_fit(flags, backend)
    hooks = _hooks(spec, cwd)
    if workers and (hooks.hooks.auth or hooks.hooks.users):
        raise SpecError("--workers with an auth or users hook: Locust workers do not load the project's hooks yet; "
                        "run without --workers")
    if flags.target is not None:
        if offline:
            raise SpecError("--offline applies to the docker backend, not to a running stack (--target)")
        return OwnStack(external=_external(flags), hooks=hooks), EXTERNAL
    if flags.compose:
        files = [path.resolve() for path in flags.compose]
        _check_compose(files, offline)
        return OwnStack(compose_files=files, hooks=hooks), "docker"
    if hooks.hooks.named():
        return OwnStack(hooks=hooks), backend
    return None, backend


def _flags_fit(flags: StackFlags, backend: str) -> None:
    problems = []
    if flags.compose and flags.target:
        problems.append("--compose starts your stack and --target uses a running one: give one of them")
    if (flags.target is None) != (flags.toxiproxy is None):
        problems.append("--target and --toxiproxy go together (the running stack's backend and its Toxiproxy API)")
    if flags.target is None:
        problems += [f"{flag} names a store of a running stack: it needs --target" for flag in flags.stores()]
        if flags.allow_remote_target:
            problems.append(f"{ALLOW_FLAG} applies to a running stack (--target)")
    if flags.target is not None and backend not in ("auto", EXTERNAL):
        problems.append(f"--backend {backend}: a running stack (--target) is used as it is, nothing is started")
    if flags.compose and backend == "local":
        problems.append("--backend local: your compose files run on the docker backend")
    if problems:
        raise SpecError(problems)


def _hooks(spec: Experiment, cwd: Path) -> ResolvedHooks:
    project = find_project_file(cwd)
    hooks = spec.hooks.over(project.settings.hooks)
    source = f"hooks of {spec.name}" + (f" and {project.path}" if project.path else "")
    return check_hooks(hooks, project.python_path or [cwd.resolve()], source)


def _external(flags: StackFlags) -> ExternalTargets:
    assert flags.target is not None and flags.toxiproxy is not None
    for flag, url, schemes in (("--target", flags.target, ("http", "https")),
                               ("--toxiproxy", flags.toxiproxy, ("http", "https"))):
        if urlsplit(url).scheme not in schemes:
            raise SpecError(f"{flag}: give an {' or '.join(schemes)} URL, e.g. http://127.0.0.1:8000")
    urls = {"--target": flags.target, "--toxiproxy": flags.toxiproxy, **flags.stores()}
    reachable, notes = remote_hosts(urls, flags.allow_remote_target)
    # A stack that does not answer is bad input, said before anything is created.
    api = flags.toxiproxy.rstrip("/")
    if not HttpCheck(f"{api}/version").ready():
        raise SpecError(f"--toxiproxy: no Toxiproxy API answers at {api}/version")
    backend = urlsplit(flags.target)
    port = backend.port or (443 if backend.scheme == "https" else 80)
    if not TcpCheck(backend.hostname or "", port).ready():
        raise SpecError(f"--target: nothing answers at {backend.hostname}:{port}")
    return ExternalTargets(target=flags.target, toxiproxy_api=api, redis_url=flags.redis_url,
                           materialize_dsn=flags.materialize_dsn, clickhouse_url=flags.clickhouse_url,
                           reachable_hosts=reachable, notes=notes)


def _check_compose(files: list[Path], offline: bool) -> None:
    """The files read and checked as the run will read them (an inserted Toxiproxy's config goes nowhere)."""
    import os

    from harness.stack.select import offline_variables
    from harness.stack.user_docker import read_user_stack

    for path in files:
        if not path.is_file():
            raise SpecError(f"--compose {path}: no such file")
    variables = offline_variables() if offline else {}
    with tempfile.TemporaryDirectory() as scratch:
        read_user_stack(files, {**os.environ, **variables}, Path(scratch) / "toxiproxy.json",
                        variables if offline else None)


def choose_stack(flags: StackFlags, backend: str, offline: bool, workers: int, spec: Experiment,
                 cwd: Path | None = None) -> tuple[OwnStack | None, str, str]:
    """(the user's stack, the backend, why): ``choose_backend`` for the reference stack or compose files."""
    from harness.stack.select import choose_backend

    own, chosen = prepare_own_stack(flags, backend, offline, workers, spec, cwd or Path.cwd())
    if chosen == EXTERNAL:
        assert own is not None and own.external is not None
        return own, chosen, f"the running stack at {own.external.target} (--target)"
    if own is not None and own.compose_files:
        chosen, why = choose_backend("docker")
        return own, chosen, f"your compose files; {why}"
    chosen, why = choose_backend(backend)
    return own, chosen, why


def stack_options(command: Callable[..., None]) -> Callable[..., None]:
    """The run command's options about whose stack to use, handed to it as one ``stack_flags``."""
    options = [
        click.option("--compose", "compose", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
                     help="Your own compose file (repeatable, merged in order) with an x-flowforge: section; "
                          "runs on the docker backend."),
        click.option("--target", help="A running stack's backend URL: used as it is, nothing started or stopped."),
        click.option("--toxiproxy", help="That stack's Toxiproxy API URL (with --target)."),
        click.option("--redis-url", help="Redis of the running stack, as reached directly (with --target)."),
        click.option("--materialize-dsn", help="Materialize of the running stack, as reached directly."),
        click.option("--clickhouse-url", help="ClickHouse of the running stack, as reached directly."),
        click.option("--allow-remote-target", is_flag=True,
                     help="Let --target and its stores be an address beyond this machine (said in the report)."),
    ]

    @functools.wraps(command)
    def with_flags(*args: object, compose: tuple[Path, ...], target: str | None, toxiproxy: str | None,
                   redis_url: str | None, materialize_dsn: str | None, clickhouse_url: str | None,
                   allow_remote_target: bool, **kwargs: object) -> None:
        flags = StackFlags(compose=compose, target=target, toxiproxy=toxiproxy, redis_url=redis_url,
                           materialize_dsn=materialize_dsn, clickhouse_url=clickhouse_url,
                           allow_remote_target=allow_remote_target)
        command(*args, stack_flags=flags, **kwargs)

    for option in reversed(options):
        with_flags = option(with_flags)
    return with_flags
