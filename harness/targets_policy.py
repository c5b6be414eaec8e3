"""Where load may go: this machine's loopback addresses, unless the user asks for another target.

Pure checks, shared by the engine (``harness.load``) and the plain locustfile
(``locust -f locustfiles/flowforge.py`` without the engine), so a mistyped
``--host`` never load-tests somebody else's server. Importing this module
pulls in nothing of the engine: it is safe inside Locust's gevent process.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

ALLOW_REMOTE_ENV = "FF_ALLOW_REMOTE_TARGET"


def is_loopback_host(host: str) -> bool:
    """127.0.0.0/8, ::1 (also as ::ffff:127.x) or the name localhost; no lookup, names could point anywhere."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.lower() == "localhost"
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def remote_allowed(environ: Mapping[str, str]) -> bool:
    return environ.get(ALLOW_REMOTE_ENV) == "1"


def check_loopback(url: str | None) -> str | None:
    """None when load may go to ``url``; otherwise the refusal to show the user.

    An empty url names no target, so there is nothing to refuse. A bare
    ``host:port`` (no scheme) is read as one.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url if "://" in url else f"//{url}")
        host = parts.hostname
    except ValueError as exc:
        # The URL is not repeated: it may carry a password.
        return f"refusing to send load: the target is not a URL ({exc})"
    if host is None:
        return "refusing to send load: the target names no host"
    if is_loopback_host(host):
        return None
    return (f"refusing to send load to {host}: not a loopback address of this machine; "
            f"set {ALLOW_REMOTE_ENV}=1 to load-test another target on purpose")
