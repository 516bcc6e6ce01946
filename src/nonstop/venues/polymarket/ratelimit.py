"""Budgets for the venue's own calls (discovery, book resyncs, reconciliation reads, cancels).

Orders are budgeted upstream by the engine's OrderThrottle (`nonstop.state.ratelimit`, persisted in
the journal). The adapter's background calls take their tokens from the same RateLimiter once the
engine shares it (`use_rate_limiter`), on venue time; before that (or in `nonstop record`) from a
private one with the same published limits. A call over budget waits, it is never dropped.

The shared limiter is the engine thread's; the I/O thread only calls its `reserve`, under the GIL:
at worst two interleaved reservations miscount one token of a budget thousands deep.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nonstop.state.ratelimit import RateLimiter, parse_limits
from nonstop.venues.polymarket.clock import actual_time


class Limiter:
    def __init__(self, overrides: dict[str, Any] | None = None) -> None:
        self._limiter = RateLimiter(parse_limits(overrides))
        self._clock: Any = None
        self.waited_s = 0.0
        self.delayed = 0

    def share(self, limiter: RateLimiter, clock: Any) -> None:
        """Spend from the engine's (persisted) budgets, on its venue clock."""
        self._limiter, self._clock = limiter, clock

    async def acquire(self, endpoint: str) -> None:
        if endpoint not in self._limiter.limits:
            return  # no published budget (e.g. heartbeats): the venue's general limit is far away
        if self._clock is None:
            wait = self._limiter.reserve(endpoint, time.monotonic())
        else:
            wait = self._limiter.reserve(endpoint, actual_time(self._clock)) / float(getattr(self._clock, "speed", 1.0))
        if wait > 0:
            self.delayed += 1
            self.waited_s += wait
            await asyncio.sleep(wait)
