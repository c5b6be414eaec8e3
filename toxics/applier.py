"""Puts a step's toxics on the link proxies, and takes all of ours off again.

The applier remembers what it has put on (proxy name == link name) so each
step costs only the calls that differ; ``clear()`` instead reads the server, so
it also finds toxics left behind by a run that died.
"""

from __future__ import annotations

from collections.abc import Sequence

from toxics.client import ToxiproxyClient
from toxics.errors import ToxiproxyError
from toxics.links import LINKS, OUR_PREFIX
from toxics.schedule import Change, ChangeKind, ToxicState, plan_changes


class ToxicApplier:
    """Applies desired toxic states through one ToxiproxyClient."""

    def __init__(self, client: ToxiproxyClient) -> None:
        self._client = client
        self._active: dict[str, ToxicState] = {}

    def active(self) -> list[ToxicState]:
        """Our toxics as last applied."""
        return list(self._active.values())

    def apply(self, desired: Sequence[ToxicState]) -> list[Change]:
        """Make our toxics equal ``desired``: adds and in-place updates first, then removes.

        Memory is updated after each successful call, so if one fails (raising
        ToxiproxyError) ``active()`` still tells what is on the server.
        """
        changes = plan_changes(self.active(), desired)
        for change in changes:
            state = change.state
            if state.disables_link:
                # "down" is no toxic: the link's proxy is disabled (ADD) and enabled again (REMOVE).
                self._client.set_enabled(state.proxy, change.kind is not ChangeKind.ADD)
                if change.kind is ChangeKind.ADD:
                    self._active[state.name] = state
                else:
                    del self._active[state.name]
            elif change.kind is ChangeKind.ADD:
                self._client.add_toxic(state.proxy, state)
                self._active[state.name] = state
            elif change.kind is ChangeKind.UPDATE:
                self._client.update_toxic(state.proxy, state)
                self._active[state.name] = state
            else:
                self._client.remove_toxic(state.proxy, state.name)
                del self._active[state.name]
        return changes

    def clear(self) -> list[str]:
        """Remove every ``ff-`` toxic on every proxy and re-enable the link proxies.

        Falls back to POST /reset (which also removes other people's toxics)
        when reading, a removal or a re-enable fails or times out. Returns the
        names of our toxics found and removed; raises only if /reset fails too.
        """
        removed: list[str] = []
        failed = False
        try:
            proxies = self._client.proxies()
        except ToxiproxyError:
            proxies, failed = {}, True
        for proxy in proxies.values():
            for toxic in proxy.toxics:
                if not toxic.name.startswith(OUR_PREFIX):
                    continue
                try:
                    self._client.remove_toxic(proxy.name, toxic.name)
                except ToxiproxyError:
                    failed = True
                removed.append(toxic.name)
            # Only link proxies: a disabled proxy of ours is a "link down" left on.
            if not proxy.enabled and proxy.name in LINKS:
                try:
                    self._client.set_enabled(proxy.name, True)
                except ToxiproxyError:
                    failed = True
        if failed:
            self._client.reset()
        self._active.clear()
        return removed
