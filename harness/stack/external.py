"""The external backend: a stack that is already running (started by the user's CI, say), used as it is.

Nothing of the stack is started or stopped here. What the run needs in the
stack's Toxiproxy it adds, and on every exit path (the runner's exit stack,
shielded from signals) it takes away exactly that, leaving the Toxiproxy as
it found it:

- per link named on the command line (``--redis-url`` and the others, and
  ``websocket`` to the ``--target``), the faulted proxy ``<link>`` and its
  control ``<link>-control``: an existing proxy of that name is used as it
  is (it is presumably the one the user's backend goes through); a missing
  one is created (listening on a port Toxiproxy picks, on loopback when the
  API is on loopback) and deleted at the end;
- the toxics: the runner's applier removes its own (``ff-…``); ``down``
  then makes every proxy that was there carry exactly the toxics it had and
  be enabled as it was (a /reset fallback of the applier would have taken
  the user's own toxics off too: they are put back), except ``ff-`` toxics
  a killed run left, which are removed, never put back.

What was found and what was created is written to ``external-stack.json``
in the run folder before anything is created, so a run killed outright
still says what it left.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict

from harness.errors import StackError, toxiproxy_errors
from harness.stack.base import Address, Endpoints, LinkEndpoint, ManagedStack
from harness.stack.links import control_name
from harness.targets_policy import is_loopback_host
from toxics.client import Proxy, ToxiproxyClient
from toxics.errors import ToxiproxyError
from toxics.links import OUR_PREFIX

RECORD_FILE = "external-stack.json"
ANY_HOST = ("0.0.0.0", "::", "[::]", "")
NOTE = ("external stack: a running stack used as it is; nothing of it was started or stopped by the harness, "
        "and its Toxiproxy was left with the proxies and toxics it had")


class ExternalTargets(BaseModel):
    """The running stack as named on the command line."""

    model_config = ConfigDict(frozen=True)

    target: str  # the backend's base URL (HTTP users; the websocket link's upstream)
    toxiproxy_api: str
    redis_url: str | None = None  # each store as reached directly (scheme, credentials and path are kept)
    materialize_dsn: str | None = None
    clickhouse_url: str | None = None
    reachable_hosts: list[str] = []  # beyond loopback, vouched for by harness.stack.reach
    notes: list[str] = []

    def store_urls(self) -> dict[str, str]:
        urls = {"redis": self.redis_url, "materialize": self.materialize_dsn, "clickhouse": self.clickhouse_url}
        return {link: url for link, url in urls.items() if url}


class ToxiproxyRecord(BaseModel):
    """What the run found in the user's Toxiproxy and what it created there."""

    api: str
    found: dict[str, Proxy]
    created: list[str] = []
    removed: list[str] = []


class ExternalStack(ManagedStack):
    name = "external"

    def __init__(self, folder: Path, run_id: str, targets: ExternalTargets) -> None:
        self.folder = folder
        self.run_id = run_id
        self.targets = targets
        self.record: ToxiproxyRecord | None = None

    def _client(self) -> ToxiproxyClient:
        host = urlsplit(self.targets.toxiproxy_api).hostname or ""
        return ToxiproxyClient(self.targets.toxiproxy_api, allow_remote=host in self.targets.reachable_hosts)

    def _save(self) -> None:
        assert self.record is not None
        (self.folder / RECORD_FILE).write_text(self.record.model_dump_json(indent=2), encoding="utf-8")

    def _up(self) -> Endpoints:
        targets = self.targets
        with toxiproxy_errors(), self._client() as client:
            version = client.version()
            self.record = ToxiproxyRecord(api=targets.toxiproxy_api, found=client.proxies())
            self._save()
            leftovers = _remove_dead_runs_toxics(client, self.record.found)
            backend = urlsplit(targets.target)
            upstreams = {link: _address_of(url) for link, url in targets.store_urls().items()}
            upstreams["websocket"] = f"{backend.hostname}:{backend.port or (443 if backend.scheme == 'https' else 80)}"
            links: dict[str, LinkEndpoint] = {}
            controls: dict[str, LinkEndpoint] = {}
            for link, upstream in upstreams.items():
                faulted = self._proxy(client, link, upstream)
                control = self._proxy(client, control_name(link), faulted.upstream)
                links[link], controls[link] = self._endpoint(faulted), self._endpoint(control)
        used = [f"{name} ({'created' if name in self.record.created else 'found'})"
                for link in links for name in (link, control_name(link))]
        urls = targets.store_urls()

        def through(link: str, paths: dict[str, LinkEndpoint]) -> str | None:
            return with_address(urls[link], paths[link].listen) if link in urls else None

        scheme = "wss" if backend.scheme == "https" else "ws"
        return Endpoints(
            backend=targets.target.rstrip("/"),
            toxiproxy_api=targets.toxiproxy_api,
            links=links,
            controls=controls,
            redis_url=through("redis", links) or "",
            materialize_dsn=through("materialize", links) or "",
            clickhouse_url=through("clickhouse", links) or "",
            websocket_url=f"{scheme}://{links['websocket'].listen}",
            redis_control_url=through("redis", controls),
            materialize_control_dsn=through("materialize", controls),
            clickhouse_control_url=through("clickhouse", controls),
            websocket_control_url=f"{scheme}://{controls['websocket'].listen}",
            versions={"toxiproxy": version},
            notes=[NOTE, f"external stack: proxies used: {', '.join(used)}", *leftovers, *targets.notes],
            reachable_hosts=targets.reachable_hosts,
        )

    def _proxy(self, client: ToxiproxyClient, name: str, upstream: str) -> Proxy:
        """The proxy ``name`` as found, or created (recorded before it is) to ``upstream``."""
        assert self.record is not None
        if name in self.record.found:
            return self.record.found[name]
        api_host = urlsplit(self.targets.toxiproxy_api).hostname or ""
        # Port 0: Toxiproxy picks a free one and reports it; loopback unless the API itself is elsewhere.
        listen = "127.0.0.1:0" if is_loopback_host(api_host) else "0.0.0.0:0"
        self.record.created.append(name)
        self._save()
        return client.create_proxy(name, listen, upstream)

    def _endpoint(self, proxy: Proxy) -> LinkEndpoint:
        host, _, port = proxy.listen.rpartition(":")
        if host in ANY_HOST:
            host = urlsplit(self.targets.toxiproxy_api).hostname or "127.0.0.1"
        up_host, _, up_port = proxy.upstream.rpartition(":")
        return LinkEndpoint(listen=Address(host=host.strip("[]"), port=int(port)),
                            upstream=Address(host=up_host, port=int(up_port)))

    def down(self) -> None:
        """Created proxies deleted; every proxy that was there back to its toxics and its enabled state."""
        if self.record is None:
            return
        record, failures = self.record, []
        try:
            with self._client() as client:
                now = client.proxies()
                for name in reversed(record.created):
                    if name in now and name not in record.removed:
                        _attempt(failures, f"deleting proxy {name}", lambda n=name: client.delete_proxy(n))
                    record.removed.append(name)
                for name, before in record.found.items():
                    if name in now:
                        _restore(client, before, now[name], failures)
                    else:
                        failures.append(f"proxy {name} was there before the run and is gone")
        except ToxiproxyError as exc:
            failures.append(str(exc))
        self.record = record.model_copy(update={"removed": sorted(set(record.removed))})
        self._save()
        self.record = None  # done: a second call has nothing to undo
        if failures:
            raise StackError(f"the Toxiproxy at {record.api} could not be left as found: " + "; ".join(failures))


def _remove_dead_runs_toxics(client: ToxiproxyClient, found: dict[str, Proxy]) -> list[str]:
    """``ff-`` toxics are ours by name: found at the start, a killed run left them, and they would fault this
    run's first steps. Removed, and said; a disabled proxy is only said (it may be the user's own doing)."""
    notes = []
    for proxy in found.values():
        for toxic in proxy.toxics:
            if toxic.name.startswith(OUR_PREFIX):
                client.remove_toxic(proxy.name, toxic.name)
                notes.append(f"external stack: removed toxic {toxic.name} a killed run left on proxy {proxy.name}")
        if not proxy.enabled:
            notes.append(f"external stack: proxy {proxy.name} was found disabled and is used as it is")
    return notes


def _restore(client: ToxiproxyClient, before: Proxy, now: Proxy, failures: list[str]) -> None:
    # An ff- toxic found at the start was a dead run's (ours by name): never put back, always removed.
    had = {toxic.name: toxic for toxic in before.toxics if not toxic.name.startswith(OUR_PREFIX)}
    for toxic in now.toxics:
        if had.get(toxic.name) != toxic:
            _attempt(failures, f"removing toxic {toxic.name} from {now.name}",
                     lambda t=toxic.name: client.remove_toxic(now.name, t))
    present = {toxic.name: toxic for toxic in now.toxics}
    for name, toxic in had.items():
        if present.get(name) != toxic:
            _attempt(failures, f"putting toxic {name} back on {now.name}",
                     lambda t=toxic: client.put_back_toxic(now.name, t))
    if now.enabled != before.enabled:
        _attempt(failures, f"{'enabling' if before.enabled else 'disabling'} proxy {now.name}",
                 lambda: client.set_enabled(now.name, before.enabled))


def _attempt(failures: list[str], what: str, action: object) -> None:
    """One undo step; its failure is noted and the others still run."""
    try:
        action()  # type: ignore[operator]
    except ToxiproxyError as exc:
        failures.append(f"{what}: {exc}")


def _address_of(url: str) -> str:
    parts = urlsplit(url)
    default = {"redis": 6379, "postgresql": 5432, "postgres": 5432, "http": 80, "https": 443}.get(parts.scheme)
    port = parts.port or default
    if parts.hostname is None or port is None:
        raise StackError(f"{parts.scheme}:// URL names no host and port")
    return f"{parts.hostname}:{port}"


def with_address(url: str, address: Address) -> str:
    """``url`` (scheme, credentials, path, query kept) pointed at ``address``."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@{address}" if credentials else str(address)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))

