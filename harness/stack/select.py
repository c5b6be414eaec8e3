"""Which backend a run uses, and how each is made and cleaned after a dead run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import SpecError
from harness.stack import binaries, leftovers
from harness.stack.base import Stack
from harness.stack.local import LocalStack

if TYPE_CHECKING:
    from harness.own_stack import OwnStack

BACKENDS = ("auto", "docker", "local")
COMPOSE_DIR = binaries.REPO_ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "flowforge.yaml"
OFFLINE_FILE = COMPOSE_DIR / "offline.yaml"


def choose_backend(requested: str) -> tuple[str, str]:
    """(backend, why): auto means docker when a Docker API answers, else local."""
    if requested not in BACKENDS:
        raise SpecError(f"--backend must be one of {', '.join(BACKENDS)}, got {requested!r}")
    if requested == "local":
        return requested, "asked for on the command line"
    from harness.stack.docker import api_answers

    answers, why = api_answers()
    if requested == "docker" and not answers:
        # An unreachable stack is bad input: say so before anything is created.
        raise SpecError(f"--backend docker: {why}; start Docker, set DOCKER_HOST, "
                        "or run scripts/podman-service.sh")
    return ("docker", why) if answers else ("local", why)


def offline_variables() -> dict[str, str]:
    """Host paths compose/offline.yaml mounts into its containers."""
    return {
        "FF_REPO": str(binaries.REPO_ROOT),
        "FF_PYTHON_PREFIX": sys.base_prefix,
        "FF_TOXIPROXY_BIN": str(binaries.toxiproxy_server()),
        "FF_PG_BIN": str(binaries.postgres_bin_dir()),
    }


def make_stack(backend: str, folder: Path, run_id: str, offline: bool = False, observe: bool = False,
               own: OwnStack | None = None) -> Stack:
    """The backend's stack; ``own``: the user's compose files or running stack, seeded by their hook if named."""
    stack = _make_stack(backend, folder, run_id, offline, observe, own)
    if own is not None and own.hooks.hooks.seed is not None:
        from harness.stack.seeded import SeededStack

        return SeededStack(stack, own.hooks, folder, run_id)
    return stack


def _make_stack(backend: str, folder: Path, run_id: str, offline: bool, observe: bool,
                own: OwnStack | None) -> Stack:
    if own is not None and own.external is not None:
        from harness.stack.external import ExternalStack

        return ExternalStack(folder, run_id, own.external)
    if own is not None and own.compose_files:
        from harness.stack.user_docker import UserComposeStack

        return UserComposeStack(folder, run_id, own.compose_files, offline_variables() if offline else {},
                                offline=offline)
    if backend == "local":
        return LocalStack(folder, run_id)
    from harness.stack.docker import DockerStack

    files = [COMPOSE_FILE] + ([OFFLINE_FILE] if offline else [])
    # --observe with real images: the compose file's Prometheus and Grafana come up with the stack
    # (offline has no images for them; the harness's own Prometheus on the host serves there).
    profiles = frozenset({"observability"}) if observe and not offline else frozenset()
    return DockerStack(folder, run_id, files, offline_variables() if offline else {}, profiles=profiles)


def remove_leftovers(backend: str) -> list[str]:
    """What runs whose harness died left behind on this backend: processes (records, then labels), containers."""
    removed = [thing.describe() for thing in leftovers.remove_dead_runs()]
    if backend == "docker":
        from harness.stack.docker import remove_dead_runs

        removed += remove_dead_runs()
    return removed
