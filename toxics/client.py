"""The harness's own typed Toxiproxy API client (the only module in toxics/ importing httpx).

Why our own: toxiproxy-python has no timeouts, no toxic update and lets
500/503 answers pass. Here every call has a timeout, every non-2xx answer and
every httpx error becomes a ToxiproxyError naming the method, the URL and what
happened, and answers are parsed into small models.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from toxics.errors import ToxiproxyError, ToxiproxyUnreachable
from toxics.schedule import ToxicState


class Toxic(BaseModel):
    """A toxic as Toxiproxy reports it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, int]


class Proxy(BaseModel):
    """A proxy as Toxiproxy reports it (``listen`` is the actual address, port resolved)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: list[Toxic] = []


_PROXIES = TypeAdapter(dict[str, Proxy])
_TOXICS = TypeAdapter(list[Toxic])


class ToxiproxyClient:
    """Typed client for one Toxiproxy API; use as a context manager to close its connections."""

    def __init__(self, api_url: str, timeout_s: float = 5.0, *, allow_remote: bool = False) -> None:
        _check_loopback(api_url, allow_remote)
        self.api_url = api_url.rstrip("/")
        self.timeout_s = timeout_s
        self._http = httpx.Client(base_url=self.api_url, timeout=httpx.Timeout(timeout_s))

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- server ---------------------------------------------------------------

    def version(self) -> str:
        answer = self._call("GET", "/version")
        try:
            return str(answer.json()["version"])
        except (ValueError, KeyError, TypeError):
            return answer.text.strip()

    def reset(self) -> None:
        """Remove every toxic on every proxy and enable every proxy."""
        self._call("POST", "/reset")

    # -- proxies --------------------------------------------------------------

    def proxies(self) -> dict[str, Proxy]:
        return self._parse(_PROXIES, self._call("GET", "/proxies"), "GET /proxies")

    def proxy(self, name: str) -> Proxy:
        path = f"/proxies/{_seg(name)}"
        return self._parse(Proxy, self._call("GET", path), f"GET {path}")

    def create_proxy(self, name: str, listen: str, upstream: str) -> Proxy:
        """Create the proxy, or accept an existing one with the same listen and upstream."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": True}
        answer = self._call("POST", "/proxies", json=body, accept=(409,))
        if answer.status_code != 409:
            return self._parse(Proxy, answer, "POST /proxies")
        existing = self.proxy(name)
        if existing.upstream != upstream or not _same_listen(listen, existing.listen):
            raise ToxiproxyError(
                f"Toxiproxy at {self.api_url} already has a proxy {name!r} with listen "
                f"{existing.listen} and upstream {existing.upstream}, not listen {listen} and "
                f"upstream {upstream}; delete it or reset the Toxiproxy server"
            )
        return existing

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{_seg(name)}")

    def set_enabled(self, name: str, enabled: bool) -> Proxy:
        """Enable or disable a proxy: disabled = link down (live connections are closed)."""
        path = f"/proxies/{_seg(name)}"
        return self._parse(Proxy, self._call("PATCH", path, json={"enabled": enabled}), f"PATCH {path}")

    # -- toxics ---------------------------------------------------------------

    def toxics(self, proxy: str) -> list[Toxic]:
        path = f"/proxies/{_seg(proxy)}/toxics"
        return self._parse(_TOXICS, self._call("GET", path), f"GET {path}")

    def add_toxic(self, proxy: str, state: ToxicState) -> Toxic:
        path = f"/proxies/{_seg(proxy)}/toxics"
        body = {
            "name": state.name,
            "type": state.type,
            "stream": state.stream,
            "toxicity": state.toxicity,
            "attributes": state.attributes,
        }
        return self._parse(Toxic, self._call("POST", path, json=body), f"POST {path}")

    def update_toxic(self, proxy: str, state: ToxicState) -> Toxic:
        """Change a live toxic in place; Toxiproxy applies it to open connections at once."""
        path = f"/proxies/{_seg(proxy)}/toxics/{_seg(state.name)}"
        body = {"toxicity": state.toxicity, "attributes": state.attributes}
        return self._parse(Toxic, self._call("PATCH", path, json=body), f"PATCH {path}")

    def put_back_toxic(self, proxy: str, toxic: Toxic) -> Toxic:
        """Add a toxic as it was read (somebody else's, removed by a /reset, put back as found)."""
        path = f"/proxies/{_seg(proxy)}/toxics"
        return self._parse(Toxic, self._call("POST", path, json=toxic.model_dump()), f"POST {path}")

    def remove_toxic(self, proxy: str, name: str) -> None:
        self._call("DELETE", f"/proxies/{_seg(proxy)}/toxics/{_seg(name)}")

    # -- plumbing -------------------------------------------------------------

    def _call(
        self, method: str, path: str, *, json: Any = None, accept: tuple[int, ...] = ()
    ) -> httpx.Response:
        """Send one request; any non-2xx status not in ``accept`` raises ToxiproxyError."""
        url = self.api_url + path
        with _translated(method, url, self.timeout_s):
            answer = self._http.request(method, path, json=json)
        if not answer.is_success and answer.status_code not in accept:
            # 503/504: its handler gave up waiting (25 s): as good as no answer.
            error = ToxiproxyUnreachable if answer.status_code in (503, 504) else ToxiproxyError
            raise error(f"Toxiproxy {method} {url} answered {answer.status_code}: {answer.text.strip()}")
        return answer

    def _parse(self, model: Any, answer: httpx.Response, what: str) -> Any:
        adapter = model if isinstance(model, TypeAdapter) else TypeAdapter(model)
        try:
            return adapter.validate_json(answer.content)
        except ValidationError as exc:
            raise ToxiproxyError(
                f"Toxiproxy {what} at {self.api_url} gave an unexpected answer "
                f"({exc.error_count()} problems): {answer.text[:300]}"
            ) from exc


@contextmanager
def _translated(method: str, url: str, timeout_s: float) -> Iterator[None]:
    """Turn httpx's errors into ToxiproxyError naming the call and what happened."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ToxiproxyUnreachable(
            f"Toxiproxy {method} {url} timed out after {timeout_s:g} s ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        raise ToxiproxyUnreachable(f"Toxiproxy {method} {url} failed: {type(exc).__name__}: {exc}") from exc
    except httpx.InvalidURL as exc:
        raise ToxiproxyError(f"Toxiproxy {method} {url}: invalid URL: {exc}") from exc


def _check_loopback(api_url: str, allow_remote: bool) -> None:
    # The API can inject faults into anything it proxies: by default we only
    # talk to one on this machine (see DESIGN: every listener binds 127.0.0.1).
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ToxiproxyError(f"Toxiproxy API URL {api_url!r} is not an http(s) URL with a host")
    if allow_remote or parts.hostname == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ToxiproxyError(
            f"Toxiproxy API URL {api_url!r} is not on the loopback interface; "
            "pass allow_remote=True to use a remote Toxiproxy"
        )


def _same_listen(requested: str, actual: str) -> bool:
    """``host:0`` asks Toxiproxy for any free port, so only the host must match."""
    host, _, port = requested.rpartition(":")
    if port == "0":
        return actual.rpartition(":")[0] == host
    return requested == actual


def _seg(name: str) -> str:
    return quote(name, safe="")
