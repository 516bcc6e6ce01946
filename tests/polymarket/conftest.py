"""A `nonstop sim-exchange` per test module (a real subprocess on loopback) and venues pointed at it.

Each test uses its own private key, so its orders, fills and balances are its own API key's even
when the fake is shared. Nothing here reaches the internet.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import httpx
import pytest

from nonstop.venues.exchange_server.launch import launch
from nonstop.venues.polymarket import make_polymarket_venue


@dataclass
class Fake:
    proc: subprocess.Popen[str]
    url: str

    def faults(self, **body: Any) -> dict[str, Any]:
        return httpx.post(f"{self.url}/nonstop/faults", json=body, timeout=5).json()

    def state(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/nonstop/state", timeout=5).json()

    def get(self, path: str) -> Any:
        return httpx.get(f"{self.url}{path}", timeout=5).json()

    def clock(self) -> float:
        return float(self.get("/nonstop/clock")["venue_time"])


def start_fake(*args: str) -> Fake:
    return Fake(*launch(*args))


def stop_fake(fake: Fake) -> None:
    fake.proc.terminate()
    try:
        fake.proc.wait(10)
    except subprocess.TimeoutExpired:
        fake.proc.kill()


@pytest.fixture(scope="module")
def fake() -> Any:
    f = start_fake("--assets", "BTC", "--timeframes", "5m", "--settle", "0.3", "--confirm", "0.6",
                   "--heartbeat-timeout", "2")
    yield f
    stop_fake(f)


def key_for(name: str) -> str:
    return "0x" + hashlib.sha256(f"nonstop-test|{name}".encode()).hexdigest()


def env_for(fake: Fake, name: str | None, **extra: str) -> dict[str, str]:
    env = {"NONSTOP_POLYMARKET_HOST": fake.url, "NONSTOP_POLYMARKET_CLOCK": "server",
           "NONSTOP_POLYMARKET_HEARTBEAT_EVERY_S": "0.5", "NONSTOP_POLYMARKET_HEARTBEAT_TIMEOUT_S": "2",
           "NONSTOP_POLYMARKET_DISCOVERY_EVERY_S": "1", **extra}
    if name:
        env["NONSTOP_POLYMARKET_PRIVATE_KEY"] = key_for(name)
    return env


@pytest.fixture
def make_venue(monkeypatch: pytest.MonkeyPatch) -> Any:
    """make_venue(fake, key_name or None (paper), **env) -> a started PolymarketVenue, closed after the test."""
    made: list[Any] = []

    def make(fake: Fake, name: str | None, home: Any = None, **extra: str) -> Any:
        for k in [k for k in os.environ if k.startswith("NONSTOP_POLYMARKET_")]:
            monkeypatch.delenv(k)
        for k, v in env_for(fake, name, **extra).items():
            monkeypatch.setenv(k, v)
        cfg = SimpleNamespace(polymarket={}, slots=[SimpleNamespace(asset="BTC", timeframe="5m")])
        venue = make_polymarket_venue(cfg, SimpleNamespace(live=name is not None, home=home))
        made.append(venue)
        venue.start(venue.clock.now())
        return venue

    yield make
    for v in made:
        v.close()


class Pump:
    """Polls a venue like the engine does and keeps everything it emitted."""

    def __init__(self, venue: Any) -> None:
        self.venue = venue
        self.events: list[Any] = []
        self.market: Any = None  # the MarketInfo a test trades, when it picked one

    def until(self, done: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.events += self.venue.poll(self.venue.clock.now())
            got = done()
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or done}; errors: {list(self.venue.errors)}")

    def of(self, kind: type, **match: Any) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items())]

    def current_market(self) -> Any:
        """The listed window that is open now and has a book on both tokens."""
        from nonstop.venues.base import MarketListed

        now = self.venue.clock.now()
        for ev in reversed(self.of(MarketListed)):
            info = ev.info
            if info.start <= now < info.end - 20 and self.venue.book(info.up_token) and \
                    self.venue.book(info.down_token):
                return info
        return None


def order(info: Any, cid: str, side: str, price: float, size: float, kind: str = "GTC", outcome: str = "Up",
          expires_at: float | None = None) -> Any:
    from nonstop.markets import Outcome
    from nonstop.venues.base import OrderRequest, OrderType, Side

    o = Outcome(outcome)
    return OrderRequest(cid, info.slug, info.token(o), o, Side(side), round(price, 3), size, OrderType(kind),
                        expires_at, "test")


def cheap(venue: Any, info: Any) -> str:
    """The outcome whose ask is lower: buying it through the ask leaves room below the 1 - tick cap."""
    up, down = venue.book(info.up_token), venue.book(info.down_token)
    return "Up" if (up.best_ask or 1.0) <= (down.best_ask or 1.0) else "Down"


def deep_bid(venue: Any, info: Any, outcome: str = "Up", below: float = 0.2) -> float:
    """A BUY price far under the book, so a resting test order is not filled by the flow meanwhile."""
    from nonstop.markets import Outcome

    bid = venue.book(info.token(Outcome(outcome))).best_bid or 0.5
    return tick_down(max(bid - below, 2 * info.tick_size), info.tick_size)


def tick_up(price: float, tick: float) -> float:
    return round(min(round(price / tick + 0.4999) * tick, 1 - tick), 3)


def tick_down(price: float, tick: float) -> float:
    return round(max(round(price / tick - 0.4999) * tick, tick), 3)
