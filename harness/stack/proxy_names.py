"""The run's Toxiproxy client, calling each link's proxies by the link's names whatever the stack named them.

The applier and everything after it know a link's proxies as ``<link>`` and
``<link>-control`` (toxics.links). A user's Toxiproxy may call them
otherwise (``cache`` for the redis link, said in x-flowforge): this client
translates names both ways at the API, so nothing else needs to know. It
also lets the run talk to a Toxiproxy beyond loopback when the stack vouched
for its host (a container this machine runs, or --allow-remote-target).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from harness.stack.base import Endpoints
from toxics.client import Proxy, Toxic, ToxiproxyClient
from toxics.schedule import ToxicState


def run_client(endpoints: Endpoints) -> ToxiproxyClient:
    """The client the run applies toxics with."""
    host = urlsplit(endpoints.toxiproxy_api).hostname or ""
    allow_remote = host in endpoints.reachable_hosts
    if not endpoints.proxy_names:
        return ToxiproxyClient(endpoints.toxiproxy_api, allow_remote=allow_remote)
    return NamedProxiesClient(endpoints.toxiproxy_api, endpoints.proxy_names, allow_remote=allow_remote)


class NamedProxiesClient(ToxiproxyClient):
    def __init__(self, api_url: str, names: dict[str, str], *, allow_remote: bool = False) -> None:
        super().__init__(api_url, allow_remote=allow_remote)
        self._real = dict(names)
        self._ours = {real: ours for ours, real in names.items()}

    def _to_real(self, name: str) -> str:
        return self._real.get(name, name)

    def _renamed(self, proxy: Proxy) -> Proxy:
        return proxy.model_copy(update={"name": self._ours.get(proxy.name, proxy.name)})

    def proxies(self) -> dict[str, Proxy]:
        return {self._ours.get(name, name): self._renamed(proxy) for name, proxy in super().proxies().items()}

    def proxy(self, name: str) -> Proxy:
        return self._renamed(super().proxy(self._to_real(name)))

    def create_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        return self._renamed(super().create_proxy(self._to_real(name), listen, upstream))

    def delete_proxy(self, name: str) -> None:
        super().delete_proxy(self._to_real(name))

    def set_enabled(self, name: str, enabled: bool) -> Proxy:
        return self._renamed(super().set_enabled(self._to_real(name), enabled))

    def toxics(self, proxy: str) -> list[Toxic]:
        return super().toxics(self._to_real(proxy))

    def add_toxic(self, proxy: str, state: ToxicState) -> Toxic:
        return super().add_toxic(self._to_real(proxy), state)

    def update_toxic(self, proxy: str, state: ToxicState) -> Toxic:
        return super().update_toxic(self._to_real(proxy), state)

    def remove_toxic(self, proxy: str, name: str) -> None:
        super().remove_toxic(self._to_real(proxy), name)

    def put_back_toxic(self, proxy: str, toxic: Toxic) -> Toxic:
        return super().put_back_toxic(self._to_real(proxy), toxic)
