"""What an Up/Down market is: assets, timeframes, window arithmetic, slugs, ticks and fees.

Shared knowledge of every venue and of the engine; pure functions only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import Enum

ASSETS: tuple[str, ...] = ("BTC", "ETH", "SOL", "XRP", "DOGE", "BNB")
TIMEFRAMES: dict[str, int] = {"5m": 300, "15m": 900}


class Outcome(str, Enum):
    UP = "Up"
    DOWN = "Down"

    @property
    def other(self) -> "Outcome":
        return Outcome.DOWN if self is Outcome.UP else Outcome.UP


def window_start(now: float, timeframe: str) -> int:
    """Unix start of the window of `timeframe` that contains `now`."""
    length = TIMEFRAMES[timeframe]
    return int(math.floor(now / length) * length)


def window_slug(asset: str, timeframe: str, start: int) -> str:
    return f"{asset.lower()}-updown-{timeframe}-{start}"


def parse_slug(slug: str) -> tuple[str, str, int]:
    """`btc-updown-5m-1793577600` -> ("BTC", "5m", 1793577600); ValueError otherwise."""
    parts = slug.split("-")
    if len(parts) != 4 or parts[1] != "updown" or parts[2] not in TIMEFRAMES:
        raise ValueError(f"not an up/down slug: {slug!r}")
    asset = parts[0].upper()
    if asset not in ASSETS:
        raise ValueError(f"unknown asset in slug: {slug!r}")
    return asset, parts[2], int(parts[3])


def tick_size_for(price: float) -> float:
    """Polymarket's tick: 0.01, or 0.001 once the price leaves [0.04, 0.96]."""
    return 0.001 if (price < 0.04 or price > 0.96) else 0.01


def round_to_tick(price: float, tick: float) -> float:
    steps = round(price / tick)
    return round(min(max(steps * tick, tick), 1.0 - tick), 6)


def taker_fee(shares: float, price: float, rate: float = 0.07, exponent: float = 1.0) -> float:
    """Taker fee in USDC: shares x rate x (p(1-p))^exponent, rounded to 5 dp. Makers pay none."""
    return round(shares * rate * (price * (1.0 - price)) ** exponent, 5)


@dataclass(frozen=True, slots=True)
class MarketInfo:
    """One window's market: two outcome tokens and its trading rules."""

    slug: str
    asset: str
    timeframe: str
    start: int
    end: int
    up_token: str
    down_token: str
    tick_size: float = 0.01
    min_size: float = 5.0
    fee_rate: float = 0.07
    fee_exponent: float = 1.0
    twap_lookback_s: int = 60
    price_to_beat: float | None = None
    neg_risk: bool = False

    def token(self, outcome: Outcome) -> str:
        return self.up_token if outcome is Outcome.UP else self.down_token

    def outcome_of(self, token_id: str) -> Outcome:
        if token_id == self.up_token:
            return Outcome.UP
        if token_id == self.down_token:
            return Outcome.DOWN
        raise KeyError(token_id)

    def with_price_to_beat(self, value: float) -> "MarketInfo":
        return replace(self, price_to_beat=value)
