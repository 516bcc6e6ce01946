"""The venue clock. On Polymarket venue time is wall time (RealClock); against a sped-up
`nonstop sim-exchange` (`clock = "server"`) it follows the fake's clock, read once from
`/nonstop/clock` and then extrapolated with the fake's speed.

Like the SimClock, a ServerClock is stepped: once the engine waits for a cycle, `now()` is that
cycle's time, not a few (sped-up) milliseconds later; so a run on the fake, recorded, replays to
the same decisions. The adapter's own I/O (discovery, GTD checks) reads `actual()`.
"""

from __future__ import annotations

import time

import httpx

from nonstop.errors import UserError


class ServerClock:
    def __init__(self, venue_time: float, speed: float, world: str = "") -> None:
        self.speed = speed
        self.world = world  # which fake (seed, start): part of the venue identity for recovery
        self._venue0 = venue_time
        self._mono0 = time.monotonic()
        self._now: float | None = None

    @classmethod
    def fetch(cls, base_url: str, timeout_s: float = 5.0) -> "ServerClock":
        url = base_url.rstrip("/") + "/nonstop/clock"
        try:
            t0 = time.monotonic()
            body = httpx.get(url, timeout=timeout_s).json()
            half_rtt = (time.monotonic() - t0) / 2
            return cls(float(body["venue_time"]) + half_rtt * float(body["speed"]), float(body["speed"]),
                       str(body.get("world", "")))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise UserError(f"[polymarket] clock = \"server\": cannot read {url} ({type(exc).__name__}); "
                            f"start `nonstop sim-exchange` or set clock = \"wall\"") from None

    def actual(self) -> float:
        return self._venue0 + (time.monotonic() - self._mono0) * self.speed

    def now(self) -> float:
        return self.actual() if self._now is None else self._now

    def wall(self) -> float:
        return time.time()

    def wait_until(self, venue_time: float) -> None:
        delay = (venue_time - self.actual()) / self.speed
        if delay > 0:
            time.sleep(delay)
        self._now = float(venue_time)


def actual_time(clock: object) -> float:
    """The venue's time right now (a ServerClock's unstepped time; any other clock's now())."""
    return getattr(clock, "actual", getattr(clock, "now"))()
