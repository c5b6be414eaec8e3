"""A stack whose stores the project's seed hook fills once it is up, before any load (harness.hooks)."""

from __future__ import annotations

from pathlib import Path

from harness.hooks import ResolvedHooks, SeedTargets, run_seed
from harness.stack.base import Endpoints, ManagedStack, Stack


class SeededStack(ManagedStack):
    """``inner`` brought up, then seeded; its teardown is ``inner``'s, also when the seed fails."""

    def __init__(self, inner: Stack, hooks: ResolvedHooks, folder: Path, run_id: str) -> None:
        self.inner = inner
        self.name = inner.name
        self.hooks = hooks
        self.folder = folder
        self.run_id = run_id

    def _up(self) -> Endpoints:
        endpoints = self.inner.__enter__()
        # Through the control proxies where there are some: no toxic is on yet, and none ever is there.
        targets = SeedTargets(
            backend_url=endpoints.backend,
            redis_url=endpoints.redis_control_url or endpoints.redis_url or None,
            materialize_dsn=endpoints.materialize_control_dsn or endpoints.materialize_dsn or None,
            clickhouse_url=endpoints.clickhouse_control_url or endpoints.clickhouse_url or None,
        )
        run_seed(self.hooks, targets, self.folder, self.run_id)
        return endpoints.model_copy(update={"notes": [*endpoints.notes, f"seeded by {self.hooks.hooks.seed}"]})

    def down(self) -> None:
        self.inner.down()

    def restart_toxiproxy(self) -> None:
        self.inner.restart_toxiproxy()

    def dead_services(self) -> dict[str, int | None]:
        return self.inner.dead_services()
