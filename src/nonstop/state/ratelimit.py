"""The rate limiter: token buckets per venue endpoint, persisted, and the order throttle in front of the venue.

Defaults are Polymarket's published limits (docs, rate-limits page; see
`shared/reference/polymarket-protocol.md` §7): each endpoint has its own windows
(e.g. POST /order 3,500 per 10 s and 36,000 per 10 min) and also draws on its host's
general budget. Overrides: `[polymarket.rate_limits]` in nonstop.toml, e.g.
`"POST /order" = [[3500, 10], [36000, 600]]`.

Budgets run on venue time (wall time on a real venue) and are saved in the journal,
so a restart continues from what was left instead of a fresh budget. A call over
budget is delayed, never dropped: the throttle queues it and sends it as soon as
the budget allows, counting how many waited and for how long (status.json).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

Windows = tuple[tuple[float, float], ...]  # (capacity, window seconds)

# endpoint -> (host, its own windows). Hosts' general budgets are in GENERAL.
DEFAULT_LIMITS: dict[str, tuple[str, Windows]] = {
    "POST /order": ("clob", ((3500, 10), (36000, 600))),
    "DELETE /order": ("clob", ((3000, 10), (30000, 600))),
    "POST /orders": ("clob", ((1000, 10), (15000, 600))),
    "DELETE /orders": ("clob", ((1000, 10), (15000, 600))),
    "DELETE /cancel-all": ("clob", ((250, 10), (6000, 600))),
    "DELETE /cancel-market-orders": ("clob", ((1000, 10), (1500, 600))),
    "GET /book": ("clob", ((1500, 10),)),
    "GET /price": ("clob", ((1500, 10),)),
    "GET /midpoint": ("clob", ((1500, 10),)),
    "POST /books": ("clob", ((500, 10),)),
    "POST /prices": ("clob", ((500, 10),)),
    "GET /prices-history": ("clob", ((1000, 10),)),
    "GET /tick-size": ("clob", ((200, 10),)),
    "GET /data/orders": ("clob", ((500, 10),)),
    "GET /data/trades": ("clob", ((500, 10),)),
    "GET /balance-allowance": ("clob", ((200, 10),)),
    "GAMMA /events": ("gamma", ((500, 10),)),
    "GAMMA /markets": ("gamma", ((300, 10),)),
}
GENERAL: dict[str, Windows] = {"clob": ((9000, 10),), "gamma": ((4000, 10),)}
PLACE, CANCEL, CANCEL_ALL = "POST /order", "DELETE /order", "DELETE /cancel-all"


@dataclass
class Bucket:
    capacity: float
    window_s: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        # Only forward: two callers a hair apart (the engine's cycle time, a venue thread's clock) must
        # not refill the same instant twice. Budgets belong to one venue session, so one clock.
        if now > self.updated_at:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated_at) * self.capacity / self.window_s)
            self.updated_at = now

    def wait(self) -> float:
        """Seconds until one token is there (after refill)."""
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) * self.window_s / self.capacity


def parse_limits(overrides: dict[str, Any] | None) -> dict[str, tuple[str, Windows]]:
    """Defaults with `[polymarket.rate_limits]` applied; ValueError naming the key and the fix."""
    limits = dict(DEFAULT_LIMITS)
    for endpoint, spec in (overrides or {}).items():
        try:
            windows = tuple((float(c), float(w)) for c, w in spec)
            if not windows or any(c < 1 or w <= 0 for c, w in windows):
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"polymarket.rate_limits.{endpoint}: {spec!r} is not a list of [capacity >= 1, "
                             f"window seconds > 0] pairs; e.g. [[3500, 10], [36000, 600]]") from None
        host = limits.get(endpoint, ("gamma" if endpoint.startswith("GAMMA") else "clob", ()))[0]
        limits[endpoint] = (host, windows)
    return limits


class RateLimiter:
    """Owner of the budgets. `try_acquire` for the engine's queue; `reserve` for a venue's own calls."""

    def __init__(self, limits: dict[str, tuple[str, Windows]] | None = None,
                 saved: Iterable[tuple[str, float, float, float, float]] = ()) -> None:
        self.limits = limits or DEFAULT_LIMITS
        self.buckets: dict[tuple[str, float], Bucket] = {}
        self.dirty = False
        self.used: set[str] = set()
        for endpoint, window_s, capacity, tokens, updated_at in saved:
            # A saved budget counts against the configured capacity, never above it.
            self.buckets[(endpoint, float(window_s))] = Bucket(float(capacity), float(window_s),
                                                               min(float(tokens), float(capacity)), float(updated_at))
            self.used.add(endpoint)

    def _chain(self, endpoint: str, now: float) -> list[Bucket]:
        if endpoint not in self.limits:
            raise ValueError(f"rate limiter: unknown endpoint {endpoint!r}; known: {', '.join(self.limits)}")
        host, windows = self.limits[endpoint]
        chain = []
        for name, spec in ((endpoint, windows), (host, GENERAL.get(host, ()))):
            for capacity, window_s in spec:
                bucket = self.buckets.get((name, window_s))
                if bucket is None or bucket.capacity != capacity:
                    tokens = capacity if bucket is None else min(bucket.tokens, capacity)
                    bucket = self.buckets[(name, window_s)] = Bucket(capacity, window_s, tokens, now)
                bucket.refill(now)
                chain.append(bucket)
        return chain

    def wait_time(self, endpoint: str, now: float) -> float:
        return max(b.wait() for b in self._chain(endpoint, now))

    def try_acquire(self, endpoint: str, now: float) -> bool:
        """Take one token from every bucket of `endpoint` if all have one."""
        chain = self._chain(endpoint, now)
        if any(b.tokens < 1.0 for b in chain):
            return False
        for b in chain:
            b.tokens -= 1.0
        self.dirty = True
        self.used.add(endpoint)
        return True

    def reserve(self, endpoint: str, now: float) -> float:
        """Take the token now, possibly into debt; return how long the caller must wait before calling."""
        chain = self._chain(endpoint, now)
        wait = max(b.wait() for b in chain)
        for b in chain:
            b.tokens -= 1.0
        self.dirty = True
        self.used.add(endpoint)
        return wait

    def export(self) -> list[tuple[str, float, float, float, float]]:
        self.dirty = False
        # list() first: a venue's I/O thread may add a bucket meanwhile (one C call, atomic under the GIL)
        return [(name, b.window_s, b.capacity, b.tokens, b.updated_at) for (name, _), b in list(self.buckets.items())]

    def status(self, now: float) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for endpoint in sorted(self.used | {PLACE}):
            if endpoint not in self.limits:
                continue
            row: dict[str, float] = {}
            for b in self._chain(endpoint, now)[:len(self.limits[endpoint][1])]:  # its own windows, refilled
                row[f"tokens_{b.window_s:g}s"] = round(b.tokens, 3)
                row[f"capacity_{b.window_s:g}s"] = b.capacity
            out[endpoint] = row
        return out


@dataclass
class _Waiting:
    endpoint: str
    client_id: str
    since: float
    send: Callable[[float], None]  # called with the venue time it actually goes out
    counted: bool = False  # already counted as delayed


@dataclass
class ThrottleStats:
    delayed: int = 0  # calls that had to wait for budget
    max_delay_s: float = 0.0
    sent: int = 0
    per_endpoint: dict[str, int] = field(default_factory=dict)


class OrderThrottle:
    """The engine's egress to the venue: place and cancel go through the budgets, in order, never dropped."""

    def __init__(self, venue: Any, limiter: RateLimiter | None = None,
                 persist: Callable[[], None] | None = None) -> None:
        self.venue = venue
        self.limiter = limiter or RateLimiter()
        self.queue: deque[_Waiting] = deque()
        self.stats = ThrottleStats()
        # Called after a token is taken and before the call goes out: the spend is durable first, so
        # a kill right after the call cannot hand the next run a budget that was already used.
        self.persist = persist

    def place(self, order: Any, now: float) -> bool:
        """Send now if the budget allows; else queue it. True when it went out now."""
        return self._submit(_Waiting(PLACE, order.client_id, now, lambda t: self.venue.place(order, t)), now)

    def cancel(self, client_id: str, now: float) -> bool:
        return self._submit(_Waiting(CANCEL, client_id, now, lambda t: self.venue.cancel(client_id, t)), now)

    def cancel_all(self, now: float) -> bool:
        """Waits behind everything queued before it (those orders go out, then are cancelled with the rest)."""
        return self._submit(_Waiting(CANCEL_ALL, "*", now, lambda t: self.venue.cancel_all(t)), now)

    def drain(self, now: float) -> int:
        """Send what waited, oldest first, while the budgets allow; a cancel waits behind its order's placement."""
        sent = 0
        blocked: set[str] = set()
        kept: deque[_Waiting] = deque()
        while self.queue:
            item = self.queue.popleft()
            # Per order, calls keep their order; a waiting cancel-all holds back everything after it.
            waits = "*" in blocked or item.client_id in blocked or (item.client_id == "*" and bool(kept))
            if waits or not self.limiter.try_acquire(item.endpoint, now):
                blocked.add(item.client_id)
                kept.append(item)
                if not item.counted:
                    item.counted = True
                    self.stats.delayed += 1
                    self.stats.per_endpoint[item.endpoint] = self.stats.per_endpoint.get(item.endpoint, 0) + 1
                continue
            self.stats.max_delay_s = max(self.stats.max_delay_s, now - item.since)
            self.stats.sent += 1
            if self.persist is not None:
                self.persist()
            item.send(now)
            sent += 1
        self.queue = kept
        return sent

    def pending(self, client_id: str) -> bool:
        return any(item.client_id == client_id for item in self.queue)

    def status(self, now: float) -> dict[str, dict[str, float]]:
        out = self.limiter.status(now)
        waiting: dict[str, int] = {}
        for item in self.queue:
            waiting[item.endpoint] = waiting.get(item.endpoint, 0) + 1
        for endpoint, row in out.items():
            row["queued"] = float(waiting.get(endpoint, 0))
            row["delayed"] = float(self.stats.per_endpoint.get(endpoint, 0))
        if PLACE in out:
            out[PLACE]["max_delay_s"] = round(self.stats.max_delay_s, 3)
        return out

    def _submit(self, item: _Waiting, now: float) -> bool:
        self.queue.append(item)
        self.drain(now)
        return not self.queue or self.queue[-1] is not item
