"""Order records and the checks an order must pass on arrival at the simulated venue."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nonstop.markets import Outcome
from nonstop.venues.base import OpenOrderView, OrderRequest, OrderStatus, OrderType, Side
from nonstop.venues.sim.windows import SimMarket


@dataclass(slots=True)
class SimOrder:
    """One order of one account. Prices are kept in the Up ladder's terms (see book.py)."""

    req: OrderRequest
    account: str
    venue_id: str
    market: SimMarket | None
    up_side: int  # +1 acts as an Up bid (BUY Up, SELL Down); -1 as an Up ask (SELL Up, BUY Down)
    up_price: int  # thousandths on the Up ladder
    seq: int
    status: OrderStatus = OrderStatus.PENDING
    filled: float = 0.0

    @property
    def remaining(self) -> float:
        return max(round(self.req.size - self.filled, 6), 0.0)

    @property
    def is_up(self) -> bool:
        return self.req.outcome is Outcome.UP

    def token_price(self, up_price: int) -> int:
        """A price on the Up ladder, in this order's own token's terms."""
        return up_price if self.is_up else 1000 - up_price

    def view(self) -> OpenOrderView:
        return OpenOrderView(self.req.client_id, self.status, self.filled, self.req.size)


def up_terms(req: OrderRequest) -> tuple[int, int]:
    """(side, price) of an order on the Up ladder: buying Down at q is offering Up at 1 - q."""
    price = math.floor(req.price * 1000.0 + 0.5)
    buys_up = (req.outcome is Outcome.UP) == (req.side is Side.BUY)
    return (1 if buys_up else -1), (price if req.outcome is Outcome.UP else 1000 - price)


def refusal(o: SimOrder, t: float, tick: int, min_size: float, available_to_sell: float) -> str:
    """Why the venue refuses this order on arrival at `t`, or '' when it is acceptable."""
    req, m = o.req, o.market
    if m is None:
        return f"unknown market {req.slug!r}: trade a slug from a MarketListed event"
    if req.token_id not in (m.info.up_token, m.info.down_token):
        return f"token {req.token_id} is not a token of {m.slug}"
    if m.info.outcome_of(req.token_id) is not req.outcome:
        return f"token {req.token_id} is the {m.info.outcome_of(req.token_id).value} token, not {req.outcome.value}"
    if t < m.listed_at:
        return f"market {m.slug} is not listed yet (lists at {m.listed_at})"
    if m.closed or t >= m.end:
        return f"market {m.slug} closed at {m.end}"
    if not req.size >= min_size:
        return f"size {req.size:g} is below the minimum order size of {min_size:g} shares"
    raw = req.price * 1000.0
    if not math.isfinite(raw) or abs(raw - round(raw)) > 1e-6 or round(raw) % tick != 0:
        return f"price {req.price} is not on the tick grid of {tick / 1000:g}; round it to a multiple of the tick"
    if not tick <= round(raw) <= 1000 - tick:
        return f"price {req.price} is outside [{tick / 1000:g}, {1 - tick / 1000:g}]"
    if req.order_type is OrderType.GTD and (req.expires_at is None or req.expires_at <= t):
        return "GTD order needs expires_at later than its arrival time"
    if req.side is Side.SELL and req.size > available_to_sell + 1e-9:
        return (f"not enough balance: selling {req.size:g} shares but only {available_to_sell:g} "
                f"of this token are held and not already offered")
    return ""
