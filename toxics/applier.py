"""Puts a step's toxics on the link proxies, keeps them there, and takes all of ours off again.

The applier remembers what it has put on (proxy name == link name) so each
step costs only the calls that differ; ``clear()`` instead reads the server, so
it also finds toxics left behind by a run that died.

Toxiproxy can stop answering (stopped, overloaded: its handlers give up
only after 25 s) or come back empty (restarted). Every call has a timeout
(the client's); when one fails, the applier restores the server itself, one
step further each time the last did not help: ``POST /reset`` (one call that
takes every toxic off and enables every proxy), then ``restart`` (the
stack's: kill Toxiproxy, start it on the same address, its proxies
re-created). After either, the proxies it knew are re-created where missing
and the toxics wanted are put back. ``check()`` (called every second by the
runner) finds a server that stopped answering, or lost proxies or toxics,
between steps. What was done goes to ``on_recovery`` as a Recovery.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from toxics.client import Proxy, ToxiproxyClient
from toxics.errors import ToxiproxyError, ToxiproxyUnreachable
from toxics.links import LINKS, OUR_PREFIX
from toxics.schedule import Change, ChangeKind, ToxicState, plan_changes


@dataclass(frozen=True)
class Recovery:
    """Toxiproxy was unusable from ``last_ok_at`` (its last good answer) until ``restored_at``."""

    trigger: str  # what showed it: a failed call, or what it had lost
    last_ok_at: float
    restored_at: float
    actions: list[str] = field(default_factory=list)  # what was done, in order
    restarted: bool = False


class ToxicApplier:
    """Applies desired toxic states through one ToxiproxyClient, and restores them when Toxiproxy fails."""

    def __init__(self, client: ToxiproxyClient, restart: Callable[[], None] | None = None,
                 on_recovery: Callable[[Recovery], None] | None = None) -> None:
        self._client = client
        # Kills Toxiproxy and starts it again on the same address (raising ToxiproxyError if it cannot).
        self._restart = restart
        self._on_recovery = on_recovery
        self._active: dict[str, ToxicState] = {}
        self._proxies: dict[str, Proxy] = {}  # every proxy as first seen: what a restored server must have
        self.last_ok_at = time.time()

    def active(self) -> list[ToxicState]:
        """Our toxics as last applied."""
        return list(self._active.values())

    def apply(self, desired: Sequence[ToxicState]) -> list[Change]:
        """Make our toxics equal ``desired``: adds and in-place updates first, then removes.

        If Toxiproxy does not answer, it is restored (``/reset``, then a
        restart) and ``desired`` put on from scratch; if it answers but lost
        proxies or toxics, those are re-created. The changes returned are then
        those of the restored server. Raises ToxiproxyError when nothing
        restored it, or when Toxiproxy answered, lost nothing, and refused
        the request itself (that is no outage to repair).
        """
        try:
            changes = self._apply(desired)
        except ToxiproxyError as exc:
            unreachable = isinstance(exc, ToxiproxyUnreachable)
            if not unreachable and self._intact():
                raise
            return self._recover(str(exc), desired, answers=not unreachable)[0]
        self.last_ok_at = time.time()
        return changes

    def check(self) -> Recovery | None:
        """Is Toxiproxy answering, with every proxy it had and our toxics on? If not, restore it."""
        try:
            proxies = self._client.proxies()
        except ToxiproxyError as exc:
            return self._recover(str(exc), self.active())[1]
        if not self._proxies:
            self._proxies = dict(proxies)
        lost = self._lost(proxies)
        if lost is None:
            self.last_ok_at = time.time()
            return None
        return self._recover(f"Toxiproxy answers but {lost} (restarted?)", self.active(), answers=True)[1]

    def clear(self) -> list[str]:
        """Remove every ``ff-`` toxic on every proxy and re-enable the link proxies.

        Falls back to POST /reset (which also removes other people's toxics)
        when reading, a removal or a re-enable fails or times out, and to a
        restart (a fresh Toxiproxy carries no toxic) when /reset fails too.
        Returns the names of our toxics found and removed; raises only when
        nothing worked.
        """
        removed: list[str] = []
        failures: list[str] = []
        try:
            proxies = self._client.proxies()
        except ToxiproxyError as exc:
            proxies = {}
            failures.append(str(exc))
        for proxy in proxies.values():
            for toxic in proxy.toxics:
                if not toxic.name.startswith(OUR_PREFIX):
                    continue
                try:
                    self._client.remove_toxic(proxy.name, toxic.name)
                except ToxiproxyError as exc:
                    failures.append(str(exc))
                removed.append(toxic.name)
            # Only link proxies: a disabled proxy of ours is a "link down" left on.
            if not proxy.enabled and proxy.name in LINKS:
                try:
                    self._client.set_enabled(proxy.name, True)
                except ToxiproxyError as exc:
                    failures.append(str(exc))
        if failures:
            self._last_resort(failures[0])
        self._active.clear()
        return removed

    # -- restoring -------------------------------------------------------------

    def _apply(self, desired: Sequence[ToxicState]) -> list[Change]:
        """Memory is updated after each successful call: if one fails, ``active()`` still tells what is on."""
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

    def _recover(self, trigger: str, desired: Sequence[ToxicState],
                 answers: bool = False) -> tuple[list[Change], Recovery]:
        """Restore the server one step further each time the last did not help; then put ``desired`` on.

        A server that answers but lost things only needs them re-created;
        one that does not answer gets /reset, then a restart.
        """
        began, actions = self.last_ok_at, [trigger]
        if answers:
            try:
                return self._done(trigger, began, actions, self._restore(desired, actions), restarted=False)
            except ToxiproxyError as exc:
                actions.append(f"re-creating what it lost failed: {exc}")
        for name, fix in (("POST /reset", self._client.reset), ("restart Toxiproxy", self._restart)):
            if fix is None:
                continue
            try:
                fix()
                actions.append(f"{name}: done")
                changes = self._restore(desired, actions)
            except ToxiproxyError as exc:
                actions.append(f"{name} failed: {exc}")
                continue
            return self._done(trigger, began, actions, changes, restarted=fix is self._restart)
        raise ToxiproxyError("Toxiproxy could not be restored: " + "; ".join(actions))

    def _done(self, trigger: str, began: float, actions: list[str], changes: list[Change],
              restarted: bool) -> tuple[list[Change], Recovery]:
        recovery = Recovery(trigger, began, time.time(), actions, restarted)
        self._report(recovery)
        return changes, recovery

    def _restore(self, desired: Sequence[ToxicState], actions: list[str]) -> list[Change]:
        """Re-create the proxies it lost, learn which of our toxics it still has, put ``desired`` on."""
        present = self._client.proxies()
        missing = [proxy for name, proxy in self._proxies.items() if name not in present]
        for proxy in missing:
            self._client.create_proxy(proxy.name, proxy.listen, proxy.upstream)
        if missing:
            actions.append(f"re-created {len(missing)} proxies: {', '.join(p.name for p in missing)}")
            present = self._client.proxies()
        self._active = {name: state for name, state in self._active.items() if _still_on(state, present)}
        changes = self._apply(desired)
        if changes:
            actions.append("put back: " + ", ".join(f"{c.kind.value} {c.state.name}" for c in changes))
        self.last_ok_at = time.time()
        return changes

    def _intact(self) -> bool:
        """Toxiproxy answers with every proxy and toxic it should have."""
        try:
            return self._lost(self._client.proxies()) is None
        except ToxiproxyError:
            return False

    def _lost(self, proxies: dict[str, Proxy]) -> str | None:
        """What the server no longer has of what it should: proxies, our toxics, our disabled links."""
        missing = [name for name in self._proxies if name not in proxies]
        toxics = [state.name for state in self._active.values() if not _still_on(state, proxies)]
        parts = ([f"lost {len(missing)} proxies ({', '.join(missing)})"] if missing else []) + \
            ([f"lost our toxics ({', '.join(toxics)})"] if toxics else [])
        return " and ".join(parts) or None

    def _last_resort(self, trigger: str) -> None:
        """clear(): /reset, then a restart; a fresh Toxiproxy carries nothing of ours."""
        try:
            self._client.reset()
            return
        except ToxiproxyError as exc:
            if self._restart is None:
                raise
            failed = f"POST /reset failed: {exc}"
        self._restart()
        self._report(Recovery(trigger, self.last_ok_at, time.time(), [trigger, failed, "restart Toxiproxy: done"],
                              restarted=True))

    def _report(self, recovery: Recovery) -> None:
        self.last_ok_at = recovery.restored_at
        if self._on_recovery is not None:
            self._on_recovery(recovery)


def _still_on(state: ToxicState, proxies: dict[str, Proxy]) -> bool:
    proxy = proxies.get(state.proxy)
    if proxy is None:
        return False
    if state.disables_link:
        return not proxy.enabled
    return any(toxic.name == state.name for toxic in proxy.toxics)
