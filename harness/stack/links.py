"""Per link, two Toxiproxy proxies to the same upstream: the faulted one and its control.

The faulted proxy (named after the link) is where toxics go; the control proxy
(``<link>-control``) never carries one. Probes and viewers measure both from
the same process at the same rate, so the difference between the two series
is the fault's effect and what they share is the host's (Netflix ChAP's
control and experiment groups).
"""

from __future__ import annotations

from collections.abc import Callable

from harness.errors import toxiproxy_errors
from harness.stack.base import Address, LinkEndpoint
from toxics.client import ToxiproxyClient

CONTROL_SUFFIX = "-control"


def control_name(link: str) -> str:
    return f"{link}{CONTROL_SUFFIX}"


def link_of(proxy_name: str) -> tuple[str, bool]:
    """``redis-control`` → (``redis``, True); ``redis`` → (``redis``, False)."""
    if proxy_name.endswith(CONTROL_SUFFIX):
        return proxy_name.removesuffix(CONTROL_SUFFIX), True
    return proxy_name, False


def create_link_proxies(client: ToxiproxyClient, link: str, upstream: Address,
                        listen: Callable[[], Address]) -> tuple[LinkEndpoint, LinkEndpoint]:
    """The faulted and the control proxy of ``link``, each listening where ``listen()`` says."""
    faulted = LinkEndpoint(listen=listen(), upstream=upstream)
    control = LinkEndpoint(listen=listen(), upstream=upstream)
    restore_link_proxies(client, link, faulted, control)
    return faulted, control


def restore_link_proxies(client: ToxiproxyClient, link: str, faulted: LinkEndpoint, control: LinkEndpoint) -> None:
    """Both proxies of ``link`` where they were (a restarted Toxiproxy has none); existing ones are kept."""
    with toxiproxy_errors():
        client.create_proxy(link, str(faulted.listen), str(faulted.upstream))
        client.create_proxy(control_name(link), str(control.listen), str(control.upstream))


def swap_address(url: str, old: Address, new: Address) -> str:
    """The same URL (scheme, credentials, path) through another proxy."""
    return url.replace(str(old), str(new), 1)
