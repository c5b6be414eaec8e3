"""What every stack backend gives the run, and the one Protocol it implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from harness.errors import StackError
from toxics.links import LINKS


class Address(BaseModel):
    model_config = ConfigDict(frozen=True)

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


class LinkEndpoint(BaseModel):
    """One Toxiproxy link: load and the backend talk to ``listen``; the store is ``upstream``."""

    model_config = ConfigDict(frozen=True)

    listen: Address
    upstream: Address


class Endpoints(BaseModel):
    """Where the stack answers once it is up."""

    model_config = ConfigDict(frozen=True)

    backend: str
    toxiproxy_api: str
    links: dict[str, LinkEndpoint]
    # Per link, a second proxy to the same upstream that never carries a toxic.
    controls: dict[str, LinkEndpoint] = {}
    # How clients reach each store through its link (scheme and credentials included).
    redis_url: str
    materialize_dsn: str
    clickhouse_url: str
    websocket_url: str
    # The same through the control proxies.
    redis_control_url: str | None = None
    materialize_control_dsn: str | None = None
    clickhouse_control_url: str | None = None
    websocket_control_url: str | None = None
    versions: dict[str, str] = {}
    notes: list[str] = []
    # Hosts beyond loopback that load may go to: containers this machine reaches directly, or hosts the
    # user allowed with --allow-remote-target (harness.stack.reach decides; load.targets_of obeys).
    reachable_hosts: list[str] = []
    # The stack's own names for the proxies the harness calls <link> and <link>-control, where they differ
    # (a user's compose file names them in x-flowforge): harness.stack.proxy_names.
    proxy_names: dict[str, str] = {}

    def check_links(self) -> None:
        missing = [link for link in LINKS if link not in self.links]
        if missing:
            raise ValueError(f"stack has no link for {', '.join(missing)}")


class Stack(Protocol):
    """A backend that brings the FlowForge stack up behind Toxiproxy.

    ``__enter__`` starts everything and, if any part fails to start, tears down
    what did start before re-raising: a half-started stack never leaks.
    """

    name: str

    def __enter__(self) -> Endpoints: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def down(self) -> None: ...

    def restart_toxiproxy(self) -> None:
        """Kill Toxiproxy and start it again on the same addresses, every link's proxies re-created."""

    def dead_services(self) -> dict[str, int | None]:
        """Services of the stack that were started and are no longer running, with their exit codes."""


class ManagedStack(ABC):
    """Context-manager plumbing shared by the backends: ``_up`` to start, ``down`` always."""

    @abstractmethod
    def _up(self) -> Endpoints: ...

    @abstractmethod
    def down(self) -> None: ...

    def restart_toxiproxy(self) -> None:
        raise StackError(f"the {type(self).__name__} cannot restart Toxiproxy")

    def dead_services(self) -> dict[str, int | None]:
        return {}  # a backend that cannot tell says nothing died

    def __enter__(self) -> Endpoints:
        try:
            return self._up()
        except BaseException as exc:
            # The start-up failure is the news; a teardown failure is a footnote.
            try:
                self.down()
            except Exception as teardown:  # noqa: BLE001
                exc.add_note(f"and then tearing down failed too: {teardown}")
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.down()
