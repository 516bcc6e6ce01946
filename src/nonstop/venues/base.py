"""The Venue interface every venue implements, and the events it emits.

A venue is an event source plus an order sink. The engine calls `poll(now)` once
per cycle to drain what happened up to venue time `now`; orders are submitted
with `place` and their fate comes back later as `OrderUpdate` and `Fill` events,
so network venues never block the decision loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, Union

from nonstop.markets import MarketInfo, Outcome


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(str, Enum):
    GTC = "GTC"  # rests until cancelled
    GTD = "GTD"  # rests until expires_at
    FOK = "FOK"  # fill all now or nothing
    FAK = "FAK"  # fill what is there now, cancel the rest

    @property
    def is_taker(self) -> bool:
        return self in (OrderType.FOK, OrderType.FAK)


class OrderStatus(str, Enum):
    PENDING = "PENDING"  # journaled, sent, not yet acknowledged
    LIVE = "LIVE"  # resting on the book
    DELAYED = "DELAYED"  # taker order waiting out the venue's taker delay
    FILLED = "FILLED"
    PARTIAL = "PARTIAL"  # partly filled, remainder still live
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL


_FINAL = {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.EXPIRED, OrderStatus.REJECTED}


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_id: str
    slug: str
    token_id: str
    outcome: Outcome
    side: Side
    price: float  # limit price; for FOK/FAK the worst price accepted
    size: float  # shares
    order_type: OrderType
    expires_at: float | None = None
    slot_id: str = ""


@dataclass(frozen=True, slots=True)
class Level:
    price: float
    size: float


@dataclass(frozen=True, slots=True)
class Book:
    token_id: str
    bids: tuple[Level, ...]  # best first (descending price)
    asks: tuple[Level, ...]  # best first (ascending price)
    ts: float

    @property
    def best_bid(self) -> float | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> float | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> float | None:
        if self.bids and self.asks:
            return (self.bids[0].price + self.asks[0].price) / 2.0
        return None

    @property
    def spread(self) -> float | None:
        if self.bids and self.asks:
            return self.asks[0].price - self.bids[0].price
        return None


# -- events -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpotTick:
    """Fast exchange price (what a Binance feed sees)."""

    asset: str
    price: float
    ts: float


@dataclass(frozen=True, slots=True)
class OracleTick:
    """Chainlink-like oracle sample: `ts` is its own integer-second stamp, it arrives later."""

    asset: str
    price: float
    ts: float


@dataclass(frozen=True, slots=True)
class BookUpdate:
    book: Book


@dataclass(frozen=True, slots=True)
class TradePrint:
    token_id: str
    price: float
    size: float
    taker_side: Side
    ts: float


@dataclass(frozen=True, slots=True)
class MarketListed:
    """A market appeared or its info changed (e.g. the price to beat became known)."""

    info: MarketInfo


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    client_id: str
    status: OrderStatus
    ts: float
    reason: str = ""
    venue_order_id: str = ""
    filled: float = 0.0  # cumulative shares filled


@dataclass(frozen=True, slots=True)
class Fill:
    fill_id: str  # unique per venue fill: applying it twice is a bug
    client_id: str
    slug: str
    token_id: str
    outcome: Outcome
    side: Side
    price: float
    size: float
    fee: float
    ts: float
    maker: bool = False


@dataclass(frozen=True, slots=True)
class Resolution:
    slug: str
    winner: Outcome
    ts: float
    final_value: float  # the oracle TWAP (or spot) at the end
    price_to_beat: float


Event = Union[SpotTick, OracleTick, BookUpdate, TradePrint, MarketListed, OrderUpdate, Fill, Resolution]


@dataclass(slots=True)
class OpenOrderView:
    """What the venue says is resting, for reconciliation."""

    client_id: str
    status: OrderStatus
    filled: float
    size: float


class Venue(Protocol):
    name: str

    def start(self, now: float) -> None:
        """Connect / warm up; `now` is the venue time the engine starts at."""

    def poll(self, now: float) -> list[Event]:
        """Everything that happened up to venue time `now`, in time order."""

    def book(self, token_id: str) -> Book | None:
        """The latest book of a token (as of the last poll)."""

    def place(self, order: OrderRequest, now: float) -> None:
        """Submit; the answer comes back through poll()."""

    def cancel(self, client_id: str, now: float) -> None: ...

    def cancel_all(self, now: float) -> None: ...

    def open_orders(self) -> list[OpenOrderView]: ...

    def close(self) -> None: ...


@dataclass(slots=True)
class VenueStats:
    """Counters a venue may expose for status.json."""

    events: int = 0
    orders: int = 0
    fills: int = 0
    extra: dict[str, float] = field(default_factory=dict)
