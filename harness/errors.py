"""The harness's one error hierarchy.

    HarnessError                 anything the harness reports as a failure
    ├── SpecError                bad input: experiment file, CLI flags (exit 2)
    ├── StackError               a service did not start or answer (exit 3)
    ├── ToxicsError              Toxiproxy refused, failed or timed out (exit 3)
    └── LoadError                Locust did not start or died (exit 3)

Library errors are translated into these where the library is imported, and
the Toxiproxy package's own errors (``toxics.errors``) at the engine's calls
into it (``toxiproxy_errors``); only ``harness.cli`` turns them into a message
and an exit code. A breached SLO is a result, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from harness.secrets import mask_secrets
from toxics.errors import ToxiproxyError


class HarnessError(Exception):
    """Base of every error the harness raises on purpose. Its message never carries a password."""

    exit_code = 3

    def __init__(self, *args: object) -> None:
        super().__init__(*(mask_secrets(arg) if isinstance(arg, str) else arg for arg in args))


class SpecError(HarnessError):
    """Bad input. Carries every problem found, each with its field path."""

    exit_code = 2

    def __init__(self, problems: list[str] | str, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = prefix + self.problems[0]
        else:
            message = prefix + f"{len(self.problems)} problems:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class StackError(HarnessError):
    """A stack service failed to start, become ready, or stop."""


class ToxicsError(HarnessError):
    """Toxiproxy answered with an error, or did not answer in time."""


class LoadError(HarnessError):
    """The load generator (Locust) failed to start or died during the run."""


@contextmanager
def toxiproxy_errors() -> Iterator[None]:
    """The engine's side of the toxics/ boundary: ToxiproxyError becomes ToxicsError."""
    try:
        yield
    except ToxiproxyError as exc:
        raise ToxicsError(str(exc)) from exc
