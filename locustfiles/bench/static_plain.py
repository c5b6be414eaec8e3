"""Plain FastHttpUser against one static file: the generator's ceiling, the bench's baseline.

``locust -f locustfiles/bench/static_plain.py --headless -u N -r N -t Ts --host http://127.0.0.1:PORT``
No wait between requests: the number is how many requests one core can make.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

STATIC_PATH = os.environ.get("FF_BENCH_STATIC_PATH", "/static.json")


class StaticUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def fetch(self) -> None:
        self.client.get(STATIC_PATH)
