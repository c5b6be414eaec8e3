"""Your own Locust users in place of the built-in ones.

Requests are recorded per step and tier as the built-in users' are: a request type naming a tier
(redis, materialize, clickhouse, websocket) counts there, anything else as http.
"""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task


class FlowForgeUser(FastHttpUser):
    wait_time = between(0.5, 1.5)

    @task(5)
    def dashboard(self) -> None:
        self.client.get(f"/api/dashboards/{random.randint(1, 10)}", name="/api/dashboards/[id]")

    @task(1)
    def export(self) -> None:
        self.client.post("/api/exports", json={"dashboard": random.randint(1, 10)}, name="/api/exports")
