"""Which addresses of a stack the harness did not start may be loaded: this machine's, or its containers'.

A running stack named on the command line (``--target``, ``--toxiproxy``,
store URLs) is loaded and faulted only where that cannot hurt anybody else:
loopback, or a container this machine's Docker API (or Podman's) runs and
this machine reaches directly on that container's network. Anything else
needs ``--allow-remote-target``, and the run then says so in its notes (the
report's and the summary's). Names are never looked up: a name could point
anywhere, so only ``localhost`` and IP addresses are judged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from harness.errors import SpecError, StackError
from harness.targets_policy import is_loopback_host

ALLOW_FLAG = "--allow-remote-target"


def host_of(url: str, what: str) -> str:
    """The host a URL names; SpecError when it names none (the URL is not repeated: it may hold a password)."""
    try:
        host = urlsplit(url if "://" in url else f"//{url}").hostname
    except ValueError as exc:
        raise SpecError(f"{what}: not a URL ({exc})") from None
    if not host:
        raise SpecError(f"{what}: the URL names no host")
    return host


def local_container_addresses() -> set[str]:
    """IP addresses of the containers the local Docker API runs (none when no API answers)."""
    try:
        from harness.stack.docker import connect, docker_errors
    except ImportError:
        return set()
    try:
        client = connect(timeout_s=5)
    except StackError:
        return set()
    found: set[str] = set()
    try:
        with docker_errors("listing the containers this machine runs"):
            for container in client.containers.list():
                networks = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
                found.update(net.get("IPAddress") for net in networks.values() if net.get("IPAddress"))
    except StackError:
        return set()
    finally:
        client.close()
    return found


def remote_hosts(urls: dict[str, str], allow_remote: bool,
                 containers: Callable[[], Iterable[str]] = local_container_addresses) -> tuple[list[str], list[str]]:
    """(hosts beyond loopback that may be loaded, notes for the report) for the named URLs.

    SpecError naming every URL that is neither loopback nor a local container, unless ``allow_remote``.
    """
    others = {what: host for what, url in urls.items() if not is_loopback_host(host := host_of(url, what))}
    if not others:
        return [], []
    seen = set(containers()) if any(_is_ip(host) for host in others.values()) else set()
    refused = {what: host for what, host in others.items() if host not in seen}
    notes = [f"{what} is container address {host} on this machine" for what, host in others.items()
             if host in seen]
    if refused and not allow_remote:
        raise SpecError([f"{what}: {host} is neither a loopback address nor a container this machine runs; "
                         f"pass {ALLOW_FLAG} to load-test and fault it on purpose" for what, host in refused.items()])
    notes += [f"{ALLOW_FLAG}: load and faults went to {host} ({what}), an address beyond this machine"
              for what, host in refused.items()]
    return sorted(set(others.values())), notes


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
