"""The shared wrapper around every datastore call: bound, time, translate."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from ..tiers import StoreError, Tier


class CallObserver(Protocol):
    def observe_call(self, tier: Tier, op: str, seconds: float) -> None: ...

    def count_error(self, tier: Tier) -> None: ...


@asynccontextmanager
async def timed_call(
    observer: CallObserver,
    tier: Tier,
    op: str,
    timeout_s: float,
    library_errors: tuple[type[BaseException], ...],
) -> AsyncIterator[None]:
    """Run the body under a deadline, record its duration, map its errors.

    Failed and timed-out calls are observed too: under a latency or timeout
    toxic the slow failures are the signal, and dropping them would flatter
    the tier's percentiles.
    """
    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            yield
    except TimeoutError as exc:
        observer.count_error(tier)
        raise StoreError(tier, f"{op} timed out after {timeout_s:g}s") from exc
    except StoreError:
        observer.count_error(tier)
        raise
    except (OSError, *library_errors) as exc:
        observer.count_error(tier)
        raise StoreError(tier, f"{op} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        observer.observe_call(tier, op, time.perf_counter() - start)
