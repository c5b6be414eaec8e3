"""The errors of the Toxiproxy package, independent of the engine that uses it.

    ToxiproxyError    Toxiproxy refused, failed or timed out (the client, the applier)
    └── ToxiproxyUnreachable  it did not answer: timed out, refused the connection, or its handler gave up (503)
    FaultPlanError    faults that cannot be scheduled (no level for a step, one toxic twice)

The engine translates them at its boundary (``harness.errors.toxiproxy_errors``
and the plan builder), so ``toxics/`` never imports ``harness``.
"""

from __future__ import annotations


class ToxiproxyError(Exception):
    """Toxiproxy answered with an error, or did not answer in time."""


class ToxiproxyUnreachable(ToxiproxyError):
    """Toxiproxy did not answer: what /reset, then a restart, are for (an answered refusal is not)."""


class FaultPlanError(ValueError):
    """The faults of an experiment cannot be turned into per-step toxics."""
