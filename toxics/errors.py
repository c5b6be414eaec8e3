"""The errors of the Toxiproxy package, independent of the engine that uses it.

    ToxiproxyError    Toxiproxy refused, failed or timed out (the client, the applier)
    FaultPlanError    faults that cannot be scheduled (no level for a step, one toxic twice)

The engine translates them at its boundary (``harness.errors.toxiproxy_errors``
and the plan builder), so ``toxics/`` never imports ``harness``.
"""

from __future__ import annotations


class ToxiproxyError(Exception):
    """Toxiproxy answered with an error, or did not answer in time."""


class FaultPlanError(ValueError):
    """The faults of an experiment cannot be turned into per-step toxics."""
