"""The ledger's own Locust user, replacing FlowForge's built-in ones through the ``users`` hook."""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

ACCOUNTS = 50


class LedgerUser(FastHttpUser):
    wait_time = between(0.05, 0.15)

    @task
    def balance(self) -> None:
        # Unauthorised (401) would count as an error of the http tier: the auth hook's headers prevent it.
        self.client.get(f"/accounts/{random.randint(1, ACCOUNTS)}", name="/accounts/[n]")
