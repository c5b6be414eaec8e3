"""The project's ``auth`` and ``users`` hooks on Locust's side (the engine checked them before the run).

``auth`` ("mypkg.auth:headers") is called once per simulated user as it
starts; the headers it returns go with every HTTP request of that user and
with a viewer's WebSocket handshake (the probe process's viewers call it
once and send the same). ``users`` ("mypkg.load:FlowForgeUser")
replaces the built-in users: they are made abstract (Locust then runs only
the hook's class), and the hook's class gets the run's ``host`` and the auth
headers. Whatever it sends is recorded per step and tier like the built-in
users' requests: the recorder listens to Locust's ``request`` events, and a
request type naming a tier (``redis``, ``websocket``…) counts there, anything
else as ``http``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from harness.contract import LoadHooks

if TYPE_CHECKING:
    # Only for types: the probe process imports this module too, and must not be patched by Locust's gevent.
    from locust import User


def load_attribute(path: str, python_path: list[str]) -> Any:
    for folder in reversed(python_path):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    module, _, attribute = path.partition(":")
    return getattr(importlib.import_module(module), attribute)


def apply_headers(client: Any, headers: Mapping[str, str]) -> None:
    """Every request of ``client`` carries ``headers`` (a request's own headers win)."""
    if not headers:
        return
    if isinstance(getattr(client, "headers", None), dict | Mapping) and hasattr(client.headers, "update"):
        client.headers.update(headers)  # HttpUser: a requests.Session
        return
    request = client.request  # FastHttpUser: no session-wide headers, so each call gets them

    def with_headers(method: str, url: str, **kwargs: Any) -> Any:
        kwargs["headers"] = {**headers, **(kwargs.get("headers") or {})}
        return request(method, url, **kwargs)

    client.request = with_headers


class AuthHeaders:
    """Mixed in before a User class: ``headers()`` of the auth hook, once per user, on every request it sends."""

    headers_hook: Callable[[], Mapping[str, str]] | None = None

    def on_start(self) -> None:
        hook = type(self).headers_hook
        headers = {str(k): str(v) for k, v in hook().items()} if hook is not None else {}
        self.auth_headers = [f"{name}: {value}" for name, value in headers.items()]
        client = getattr(self, "client", None)
        if client is not None:
            apply_headers(client, headers)
        parent = super()
        if hasattr(parent, "on_start"):
            parent.on_start()  # type: ignore[misc]


def auth_header_lines(hooks: LoadHooks | None) -> list[str]:
    """The auth hook's headers as WebSocket handshake lines (the probe process's viewers; [] without one)."""
    if hooks is None or hooks.auth is None:
        return []
    headers = load_attribute(hooks.auth, hooks.python_path)()
    return [f"{name}: {value}" for name, value in headers.items()]


def with_hooks(hooks: LoadHooks | None, host: str, builtins: list[type[User]]) -> dict[str, type[User]]:
    """The runnable user classes for the locustfile's namespace: the built-ins, or the users hook's class;
    each with the auth hook's headers when one is named."""
    if hooks is None or (hooks.auth is None and hooks.users is None):
        return {}
    auth = load_attribute(hooks.auth, hooks.python_path) if hooks.auth else None
    chosen = builtins
    if hooks.users is not None:
        for builtin in builtins:
            builtin.abstract = True  # Locust runs only the hook's users
        chosen = [load_attribute(hooks.users, hooks.python_path)]
    made: dict[str, type[User]] = {}
    for base in chosen:
        if base in builtins and hooks.users is None:
            base.abstract = True  # replaced by the same class with the auth headers
        attributes = {"abstract": False, "host": getattr(base, "host", None) or host,
                      "headers_hook": staticmethod(auth) if auth else None, "__module__": __name__}
        made[base.__name__] = type(base.__name__, (AuthHeaders, base), attributes)
    return made
