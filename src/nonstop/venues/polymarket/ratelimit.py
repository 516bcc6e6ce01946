"""Budgets for the venue's own calls (discovery, book resyncs, reconciliation reads, heartbeats).

Orders and cancels are budgeted upstream by the engine's OrderThrottle (`nonstop.state.ratelimit`,
persisted in the journal). The adapter's background reads use the same limiter class and the same
published limits, owned by the I/O thread and on its monotonic clock: a burst waits, never drops.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nonstop.state.ratelimit import RateLimiter, parse_limits


class Limiter:
    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self._limiter = RateLimiter(parse_limits(overrides))
        self.waited_s = 0.0
        self.delayed = 0

    async def acquire(self, endpoint: str) -> None:
        if endpoint not in self._limiter.limits:
            return  # no published budget (e.g. heartbeats): the venue's general limit is far away
        wait = self._limiter.reserve(endpoint, time.monotonic())
        if wait > 0:
            self.delayed += 1
            self.waited_s += wait
            await asyncio.sleep(wait)
