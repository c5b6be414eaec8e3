"""What every view hands the collector, and the shape a view has."""

from __future__ import annotations

from typing import Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from harness.vantage.views import ServerView


class Reading(BaseModel):
    """One view's account of a window: its tiers, and what it had to leave out.

    A problem here is partial (the view still says something, e.g. Redis's
    count without its percentiles); a view that says nothing raises
    VantageError instead.
    """

    model_config = ConfigDict(frozen=True)

    views: dict[str, ServerView]
    problems: list[str] = []


class WindowView(Protocol):
    """A server asked at the window's start (reset or snapshot) and end (read).

    Both raise VantageError for anything the server does wrong, with the
    server named in the message; every network call is bounded by the
    view's timeout.
    """

    name: str

    def start(self) -> None: ...

    def end(self) -> Reading: ...

    def close(self) -> None: ...


def address_of(url: str) -> str:
    """host:port of a store URL or DSN, for messages: credentials stay out of reports."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname or url)
