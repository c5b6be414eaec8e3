"""The game day's locustfile: FlowForge's users and recorder, with the users an operator sets live.

``locust -f locustfiles/gameday.py`` runs exactly what ``flowforge.py`` runs
(the same users, probes wiring and per-window recorder, imported from it),
but its shape takes the user count from the operator's ``users.json``
(``harness.gameday.users_file``) once the engine has written one, instead of
from the plan's steps: in a game day the plan's steps are only measurement
windows.
"""

from __future__ import annotations

from harness.gameday.users_file import UsersReader, users_path
from locustfiles import flowforge
from locustfiles.flowforge import DashboardViewer, WidgetUser
from locustfiles.shape import StepRampShape

__all__ = ["DashboardViewer", "GameDayShape", "WidgetUser"]  # what Locust runs, by name in this module


class GameDayShape(StepRampShape):
    """The plan's users until the operator says otherwise; never ends the test (the engine stops Locust)."""

    plan = flowforge.PLAN
    clock = flowforge.CLOCK
    stop_at_end = False
    reader = UsersReader(users_path(flowforge.LOAD.folder) if flowforge.LOAD else None)

    def tick(self) -> tuple[int, float] | None:
        planned = super().tick()
        wanted = type(self).reader.wanted()
        if wanted is None:
            return planned
        return wanted.users, wanted.spawn_rate
