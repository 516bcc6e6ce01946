"""The public API strategies import: `from nonstop.strategy import Context, Intent`.

A strategy is a class with `__init__(self, params)` and `decide(self, ctx) -> list[Intent]`.
`decide` is pure: it reads the read-only Context and returns intents. The only
thing it may change is `ctx.memory`, a dict the engine owns, scoped to the slot
and the current window, which survives hot reloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Mapping, MutableMapping, Protocol

from nonstop.markets import Outcome
from nonstop.venues.base import Book, OrderType, Side

__all__ = ["Context", "Intent", "WindowView", "PositionView", "Strategy", "Outcome", "OrderType", "Side", "Book"]


@dataclass(frozen=True, slots=True)
class WindowView:
    slug: str
    start: int
    end: int
    seconds_left: float
    price_to_beat: float | None
    armed: bool
    fired: bool


@dataclass(frozen=True, slots=True)
class PositionView:
    up_shares: float = 0.0
    down_shares: float = 0.0
    cost: float = 0.0
    open_orders: int = 0

    def shares(self, outcome: Outcome) -> float:
        return self.up_shares if outcome is Outcome.UP else self.down_shares


@dataclass(frozen=True, slots=True)
class Context:
    now: float
    slot_id: str
    asset: str
    timeframe: str
    window: WindowView
    spot: float | None  # fast exchange price
    oracle: float | None  # latest oracle price delivered
    twap: float | None  # oracle TWAP over the last `twap_lookback_s` seconds
    up_book: Book | None
    down_book: Book | None
    position: PositionView
    indicators: Mapping[str, float]
    memory: MutableMapping[str, Any]
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    fee_rate: float = 0.07
    fee_exponent: float = 1.0

    def book(self, outcome: Outcome) -> Book | None:
        return self.up_book if outcome is Outcome.UP else self.down_book


@dataclass(frozen=True, slots=True)
class Intent:
    """What a strategy wants. The engine's egress gate turns it into an order or a reason why not.

    kind "order": buy or sell `outcome` tokens; `limit` is the worst price accepted
    (None: the best ask/bid at decision time); `size_usd` None means the control's order size.
    kind "arm": no order; marks the window armed in status.json, with `reason`.
    """

    kind: Literal["order", "arm"]
    outcome: Outcome = Outcome.UP
    side: Side = Side.BUY
    limit: float | None = None
    size_usd: float | None = None
    order_type: OrderType = OrderType.FAK
    reason: str = ""

    @staticmethod
    def buy(outcome: Outcome, limit: float | None = None, *, size_usd: float | None = None,
            order_type: OrderType = OrderType.FAK, reason: str = "") -> "Intent":
        return Intent("order", outcome, Side.BUY, limit, size_usd, order_type, reason)

    @staticmethod
    def sell(outcome: Outcome, limit: float | None = None, *, size_usd: float | None = None,
             order_type: OrderType = OrderType.FAK, reason: str = "") -> "Intent":
        return Intent("order", outcome, Side.SELL, limit, size_usd, order_type, reason)

    @staticmethod
    def arm(reason: str = "") -> "Intent":
        return Intent("arm", reason=reason)


class Strategy(Protocol):
    def __init__(self, params: dict[str, Any]) -> None: ...

    def decide(self, ctx: Context) -> list[Intent]: ...


def fair_up_probability(spot: float, price_to_beat: float, seconds_left: float, sigma_per_sqrt_s: float,
                        twap_lookback_s: float = 60.0) -> float:
    """P(final TWAP >= price to beat) under Brownian motion in log price.

    With tau <= L seconds left the final TWAP's residual std is sigma*sqrt(tau^3/(3 L^2)),
    with tau > L it is sigma*sqrt(tau - 2L/3) (see the microstructure reference). A helper for
    strategies and the simulator's market makers alike.
    """
    import math

    if price_to_beat <= 0 or spot <= 0:
        return 0.5
    tau = max(seconds_left, 0.0)
    lookback = max(twap_lookback_s, 1e-9)
    if tau <= lookback:
        std = sigma_per_sqrt_s * math.sqrt(tau ** 3 / (3.0 * lookback ** 2)) if tau > 0 else 0.0
    else:
        std = sigma_per_sqrt_s * math.sqrt(tau - 2.0 * lookback / 3.0)
    edge = math.log(spot / price_to_beat)
    if std <= 1e-12:
        return 1.0 if edge >= 0 else 0.0
    return 0.5 * (1.0 + math.erf(edge / (std * math.sqrt(2.0))))
