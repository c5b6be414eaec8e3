"""Locust's dispatcher, with every user class spread evenly over the workers.

Locust hands users out in the order of its class generator (viewer, HTTP
user, viewer, …) to the workers in a cycle (worker 0, 1, 0, …): with two
classes of equal weight and two workers every viewer lands on one worker and
every HTTP user on the other, so one process carries all the WebSocket load.
This dispatcher gives each user to the worker running the fewest of its class
(then the fewest users), so viewers and HTTP users spread over every worker,
also after a lost worker's users are handed out again. The master uses it
through Locust's own extension point, ``Environment.dispatcher_class``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from locust.dispatch import UsersDispatcher
from locust.runners import WorkerNode


class SpreadDispatcher(UsersDispatcher):
    def _least_loaded(self, users_on_workers: dict[str, dict[str, int]], user: str) -> WorkerNode:
        return min(self._worker_nodes,
                   key=lambda node: (users_on_workers[node.id][user], sum(users_on_workers[node.id].values())))

    def _add_users_on_workers(self) -> dict[str, dict[str, int]]:
        target = min(self._current_user_count + self._user_count_per_dispatch_iteration, self._target_user_count)
        for user in self._user_generator:
            if not user:
                self._no_user_to_spawn = True
                break
            node = self._least_loaded(self._users_on_workers, user)
            self._users_on_workers[node.id][user] += 1
            self._current_user_count += 1
            self._active_users.append((node, user))
            if self._current_user_count >= target:
                break
        return self._users_on_workers

    def _distribute_users(self, target_user_count: int) -> tuple[
            dict[str, dict[str, int]], Iterator[str | None], itertools.cycle, list[tuple[WorkerNode, str]]]:
        """The rebalance after a worker joins or is lost: a fresh spread of the running users."""
        user_gen = self._user_gen()
        users_on_workers = {node.id: {cls.__name__: 0 for cls in self._original_user_classes}
                            for node in self._worker_nodes}
        active_users = []
        for _ in range(target_user_count):
            user = next(user_gen)
            if not user:
                break
            node = self._least_loaded(users_on_workers, user)
            users_on_workers[node.id][user] += 1
            active_users.append((node, user))
        return users_on_workers, user_gen, itertools.cycle(self._worker_nodes), active_users
