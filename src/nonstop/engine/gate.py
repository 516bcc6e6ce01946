"""The egress gate: the one place an intent becomes an order, or a sentence saying why not.

Pure: everything it needs is passed in. Modes are a literal table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nonstop.control.schema import ControlDoc, Mode
from nonstop.markets import MarketInfo, round_to_tick, taker_fee, tick_size_for
from nonstop.strategy import Context, Intent
from nonstop.venues.base import OrderRequest, OrderType, Side

# What each mode lets through: (new buys, sells that shrink a position).
MODE_TABLE: dict[Mode, tuple[bool, bool]] = {
    Mode.ACTIVE: (True, True),
    Mode.REDUCE_ONLY: (False, True),
    Mode.PAUSED: (False, False),
    Mode.HALTED: (False, False),
}


@dataclass(frozen=True, slots=True)
class Exposure:
    window: float
    asset: float
    total: float
    cash: float


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str


def gate(intent: Intent, ctx: Context, market: MarketInfo, control: ControlDoc, mode: Mode,
         exposure: Exposure, client_id: str) -> OrderRequest | Refusal:
    buys_ok, sells_ok = MODE_TABLE[mode]
    if intent.side is Side.BUY and not buys_ok:
        return Refusal(f"{mode.value}: no new buys")
    if intent.side is Side.SELL and not sells_ok:
        return Refusal(f"{mode.value}: no orders at all")
    if ctx.window.seconds_left <= 0:
        return Refusal("window closed")
    book = ctx.book(intent.outcome)
    if book is None:
        return Refusal(f"no {intent.outcome.value} book")
    touch = book.best_ask if intent.side is Side.BUY else book.best_bid
    price = intent.limit if intent.limit is not None else touch
    if price is None:
        return Refusal(f"no {'ask' if intent.side is Side.BUY else 'bid'} on the {intent.outcome.value} book")
    price = round_to_tick(price, tick_size_for(price))
    if intent.side is Side.SELL:
        held = ctx.position.shares(intent.outcome)
        if held < market.min_size:
            return Refusal(f"sell of {intent.outcome.value}: holding {held:g} shares, below the minimum {market.min_size:g}")
        return _order(client_id, market, intent, price, math.floor(held * 100) / 100, ctx.slot_id)
    usd = intent.size_usd if intent.size_usd is not None else control.sizing.order_usd_for(ctx.asset)
    usd = min(usd, control.sizing.order_usd_for(ctx.asset))
    room = min(control.sizing.max_exposure_window_usd - exposure.window,
               control.sizing.asset_cap(ctx.asset) - exposure.asset,
               control.sizing.max_exposure_total_usd - exposure.total)
    if room < usd:
        usd = room
    shares = math.floor(usd / price * 100) / 100 if price > 0 else 0.0
    if shares < market.min_size:
        if room < market.min_size * price:
            return Refusal(f"exposure cap: room ${max(room, 0):.2f} is below one minimum order "
                           f"({market.min_size:g} shares at {price:g})")
        return Refusal(f"size {shares:g} shares below the venue minimum {market.min_size:g}; "
                       f"raise sizing.order_usd to at least {market.min_size * price:.2f}")
    cost = shares * price + taker_fee(shares, price, market.fee_rate, market.fee_exponent)
    if cost > exposure.cash:
        return Refusal(f"cash ${exposure.cash:.2f} below the order's cost ${cost:.2f}")
    return _order(client_id, market, intent, price, shares, ctx.slot_id)


def _order(client_id: str, market: MarketInfo, intent: Intent, price: float, shares: float,
           slot_id: str) -> OrderRequest:
    expires = float(market.end) if intent.order_type is OrderType.GTD else None
    return OrderRequest(client_id, market.slug, market.token(intent.outcome), intent.outcome, intent.side,
                        price, shares, intent.order_type, expires, slot_id)
