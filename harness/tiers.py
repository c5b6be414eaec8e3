"""The tiers the harness measures, in the user's words.

The datastore tiers and the WebSocket tier each sit behind the Toxiproxy link
of the same name; ``http`` is the user-facing API measured by Locust users.
"""

from __future__ import annotations

from typing import Literal

Tier = Literal["redis", "materialize", "clickhouse", "websocket", "http"]
TIERS: tuple[Tier, ...] = ("redis", "materialize", "clickhouse", "websocket", "http")
DATASTORE_TIERS: tuple[Tier, ...] = ("redis", "materialize", "clickhouse")
