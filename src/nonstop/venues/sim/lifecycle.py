"""The order lifecycle as timed actions, shared by the simulator and the replay venue.

Each venue keeps its own action queue and its own way of knowing a market's tick; what an
action does to an order (arrive, execute after the taker delay, cancel, expire) is written once.
"""

from __future__ import annotations

from typing import Any, Callable

from nonstop.venues.base import OrderStatus
from nonstop.venues.sim.matching import Matcher, Out
from nonstop.venues.sim.orders import SimOrder

Push = Callable[[float, str, Any], None]


def act_on_order(mt: Matcher, kind: str, payload: Any, at: float, tick_of: Callable[[SimOrder, float], int],
                 push: Push, taker_delay_s: float) -> Out | None:
    """Run one order action; its events, or None when `kind` is not an order action."""
    if kind == "arrive":
        o: SimOrder = payload
        events, taker = mt.arrive(o, at, tick_of(o, at))
        if taker:
            push(at + taker_delay_s, "execute", o)
        if o.req.expires_at is not None and not o.status.is_final and o.req.order_type.value == "GTD":
            push(o.req.expires_at, "expire", o)
        return events
    if kind == "execute":
        return mt.execute(payload, at)
    if kind == "cancel":
        return mt.cancel(payload, at)
    if kind == "cancel_all":
        out: Out = []
        for o in [o for rest in mt.resting.values() for o in rest if o.account == payload]:
            out.extend(mt.cancel(o, at))
        return out
    if kind == "expire":
        o = payload
        if o.status is OrderStatus.DELAYED:  # still crossing: expire what rests of it afterwards
            push(at + taker_delay_s, "expire", o)
            return []
        return mt.cancel(o, at, f"expired at {o.req.expires_at:g}", OrderStatus.EXPIRED)
    return None
