"""The four links the harness can break, and how our toxics are named on them.

Each link has one Toxiproxy proxy named after it. Every toxic the harness
creates is named ``ff-<link>-<type>-<stream>``: the prefix lets cleanup find
what we injected (also after a dead run) and leave anyone else's toxics alone,
and the rest makes the name stable across ramp steps, so a new level is a PATCH
of the same toxic rather than a remove-then-add.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Link(StrEnum):
    """A connection between the backend and one datastore or the browser."""

    REDIS = "redis"
    MATERIALIZE = "materialize"
    CLICKHOUSE = "clickhouse"
    WEBSOCKET = "websocket"


LINKS: tuple[str, ...] = tuple(link.value for link in Link)

# Toxiproxy's direction: downstream = server -> client, upstream = client -> server.
Stream = Literal["upstream", "downstream"]
STREAMS: tuple[str, ...] = ("upstream", "downstream")

OUR_PREFIX = "ff-"


def toxic_name(link: Link | str, type: str, stream: Stream | str) -> str:
    """Name of the toxic the harness puts on ``link``, e.g. ``ff-redis-latency-downstream``."""
    link = Link(link)
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {', '.join(STREAMS)}, not {stream!r}")
    return f"{OUR_PREFIX}{link.value}-{type}-{stream}"
