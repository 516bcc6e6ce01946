"""Helpers for driving the simulator through its public API."""

from __future__ import annotations

from typing import Any

import pytest

from nonstop.markets import MarketInfo, Outcome
from nonstop.venues.base import Event, MarketListed, OrderRequest, OrderType, Side
from nonstop.venues.sim import SimConfig, SimVenue


def small_config(**overrides: Any) -> SimConfig:
    """One asset, one timeframe: fast, and everything else at its defaults."""
    base: dict[str, Any] = {"assets": ("BTC",), "timeframes": ("5m",)}
    base.update(overrides)
    return SimConfig(**base)


class Harness:
    """A SimVenue polled once per venue second, keeping every event it returned."""

    def __init__(self, seed: int = 1, config: SimConfig | None = None) -> None:
        self.venue = SimVenue(seed, config or small_config())
        self.now = self.venue.start_time
        self.venue.start(self.now)
        self.events: list[Event] = list(self.venue.poll(self.now))

    def run(self, seconds: float, step: float = 1.0) -> list[Event]:
        new: list[Event] = []
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = min(self.now + step, end)
            new += self.venue.poll(self.now)
        self.events += new
        return new

    def market(self, asset: str = "BTC", timeframe: str = "5m", start: int | None = None) -> MarketInfo:
        infos = [e.info for e in self.events if isinstance(e, MarketListed)
                 and e.info.asset == asset and e.info.timeframe == timeframe]
        if start is None:
            start = max(i.start for i in infos if i.start <= self.now)
        return [i for i in infos if i.start == start][-1]

    def order(self, cid: str, info: MarketInfo, price: float, size: float, order_type: OrderType,
              outcome: Outcome = Outcome.UP, side: Side = Side.BUY, expires_at: float | None = None) -> OrderRequest:
        req = OrderRequest(cid, info.slug, info.token(outcome), outcome, side, price, size, order_type, expires_at)
        self.venue.place(req, self.now)
        return req


@pytest.fixture
def harness() -> Harness:
    return Harness()
