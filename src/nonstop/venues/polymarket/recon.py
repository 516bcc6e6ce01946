"""Recovery reads for `nonstop.state.recovery` (the ReconcilingVenue methods), run on the I/O loop.

After a restart the journal hands over the orders it knows; their venue ids come from the journal
or, for an order whose POST answer was lost in the crash, from the adapter's own order store
(written before the POST). Fills are the settled legs of the account's trades, with the same
fill ids the live stream produces (`{trade id}:{order id}`), so each is applied once.
"""

from __future__ import annotations

import math
from typing import Any

from nonstop.markets import Outcome, taker_fee
from nonstop.venues.base import Fill, Resolution, Side
from nonstop.venues.polymarket.clob import LiveClob
from nonstop.venues.polymarket.discovery import parse_event
from nonstop.venues.polymarket.http import RestReader
from nonstop.venues.polymarket.tracker import legs

_SETTLED = ("MINED", "CONFIRMED")


def venue_id(order: Any, clob: LiveClob) -> str:
    stored = clob.store.get(order.request.client_id)
    return order.venue_order_id or (stored[0] if stored else "")


async def states(clob: LiveClob, orders: list[Any], since: float) -> dict[str, Any]:
    """client id -> (order, venue id, venue order, [(fill id, shares, trade status)]), or None when the
    venue never received it. The engine thread turns these into tracked orders (Tracker.adopt)."""
    trades = await clob.trades(since)
    out: dict[str, Any] = {}
    for o in orders:
        oid = venue_id(o, clob)
        venue_order = await clob.get_order(oid) if oid else None
        if venue_order is None:
            out[o.request.client_id] = None
            continue
        mine = [(fill_id, shares, str(t.status).upper()) for t in trades
                for got, fill_id, shares, *_ in legs(t, lambda x: x == oid)]
        out[o.request.client_id] = (o, oid, venue_order, mine)
    return out


async def fills(clob: LiveClob, orders: list[Any], infos: dict[str, Any], since: float) -> list[Fill]:
    by_oid = {venue_id(o, clob): o for o in orders}
    by_oid.pop("", None)
    out = []
    for t in await clob.trades(since):
        if str(t.status).upper() not in _SETTLED:
            continue
        for oid, fill_id, shares, price, side, maker, _ in legs(t, lambda x: x in by_oid):
            req = by_oid[oid].request
            info = infos.get(req.slug)
            fee = 0.0 if maker else (taker_fee(shares, price, info.fee_rate, info.fee_exponent) if info
                                     else taker_fee(shares, price))
            out.append(Fill(fill_id, req.client_id, req.slug, req.token_id, req.outcome, Side(side), price, shares,
                            fee, t.matched_at.timestamp(), maker))
    return out


async def resolution(reader: RestReader, gamma_url: str, slug: str) -> Resolution | None:
    status, event = await reader.get_json(f"{gamma_url}/events/slug/{slug}", "GAMMA /events")
    if status != 200 or not event:
        return None
    info, _, _, winner, final = parse_event(event)
    if winner is None:
        return None
    ptb = info.price_to_beat if info.price_to_beat is not None else math.nan
    return Resolution(slug, Outcome(winner), float(info.end), final if final is not None else math.nan, ptb)


async def positions(clob: LiveClob, since: float) -> dict[str, float]:
    """Shares per token from the account's settled trades (ours by API key)."""
    assert clob.client is not None
    key = clob.client.credentials.key
    held: dict[str, float] = {}
    for t in await clob.trades(since):
        if str(t.status).upper() not in _SETTLED:
            continue
        if str(t.trader_side).upper() == "TAKER" and t.owner == key:
            sign = 1.0 if str(t.side) == "BUY" else -1.0
            held[str(t.asset_id)] = held.get(str(t.asset_id), 0.0) + sign * float(t.size)
        for m in t.maker_orders or ():
            if m.owner == key and str(t.trader_side).upper() == "MAKER":
                sign = 1.0 if str(m.side) == "BUY" else -1.0
                held[str(m.asset_id)] = held.get(str(m.asset_id), 0.0) + sign * float(m.matched_amount)
    return held


__all__ = ["fills", "positions", "resolution", "states"]
