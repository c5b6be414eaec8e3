"""The bench's one error: a measurement could not be taken (its message says which and why)."""

from __future__ import annotations

from harness.errors import HarnessError


class BenchError(HarnessError):
    """A measurement could not be taken. The bench records it and goes on with the next."""
