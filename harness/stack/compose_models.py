"""The typed form of a compose project, as the docker backend starts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from harness.errors import SpecError


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Build(Frozen):
    model_config = ConfigDict(frozen=True, extra="forbid")

    context: Path
    dockerfile: str = "Dockerfile"


class HealthCheck(Frozen):
    """A healthcheck as argv: ``CMD-SHELL`` tests become ``/bin/sh -c``."""

    argv: list[str]
    interval_s: float = 5.0
    timeout_s: float = 5.0
    retries: int = 3
    start_period_s: float = 0.0

    @property
    def patience_s(self) -> float:
        # Generous: a first start may compile, seed or load data before answering.
        return max(60.0, self.start_period_s + (self.interval_s + self.timeout_s) * max(self.retries, 1) * 4)


class Volume(Frozen):
    source: str  # absolute host path for binds, a name for volumes ("" = anonymous)
    target: str
    read_only: bool = False
    bind: bool = True


class Service(Frozen):
    name: str
    image: str | None = None
    build: Build | None = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = {}
    ports: list[int] = []  # container ports, always published on 127.0.0.1 at a free host port
    volumes: list[Volume] = []
    tmpfs: dict[str, str] = {}
    healthcheck: HealthCheck | None = None
    depends_on: dict[str, str] = {}
    networks: list[str] = []
    labels: dict[str, str] = {}
    user: str | None = None
    working_dir: str | None = None
    profiles: list[str] = []
    # Names it answers by on the run's network (None: its own name); set by the harness, never read from a file
    # (Toxiproxy inserted in front of a store takes the store's name: harness.stack.user_compose).
    aliases: list[str] | None = None


class Project(Frozen):
    services: dict[str, Service]
    extensions: dict[str, Any] = {}

    def start_order(self, profiles: frozenset[str] = frozenset()) -> list[Service]:
        """Services in dependency order, leaving out those of profiles not asked for."""
        wanted = {n: s for n, s in self.services.items() if not s.profiles or profiles & set(s.profiles)}
        ordered: list[Service] = []
        state: dict[str, str] = {}

        def visit(name: str, path: tuple[str, ...]) -> None:
            if state.get(name) == "done":
                return
            if state.get(name) == "visiting":
                raise SpecError(f"services: depends_on forms a cycle: {' → '.join(path + (name,))}")
            if name not in wanted:
                raise SpecError(f"services.{path[-1]}.depends_on: {name} is not a service here")
            state[name] = "visiting"
            for dependency in wanted[name].depends_on:
                visit(dependency, path + (name,))
            state[name] = "done"
            ordered.append(wanted[name])

        for name in wanted:
            visit(name, ())
        return ordered
