"""A test strategy that trades often: takers, resting makers and sells, so a crash always has
something in flight. Deterministic: it reads only the context."""

from __future__ import annotations

from nonstop.strategy import Context, Intent, Outcome
from nonstop.venues.base import OrderType


class Churn:
    def __init__(self, params: dict) -> None:
        self.every = int(params.get("every", 7))
        self.size_usd = float(params.get("size_usd", 5.0))

    def decide(self, ctx: Context) -> list[Intent]:
        k = int(ctx.now)
        if ctx.window.seconds_left < 5 or ctx.position.open_orders > 2 or k % self.every:
            return []
        phase = (k // self.every) % 4
        side = Outcome.UP if (k // (4 * self.every)) % 2 else Outcome.DOWN
        if phase == 3:
            return [Intent.sell(side, reason="trim")] if ctx.position.shares(side) >= 5 else []
        if phase == 2:
            book = ctx.book(side)
            bid = book.best_bid if book else None
            if bid is None or bid < 0.05:
                return []
            return [Intent.buy(side, limit=bid, size_usd=self.size_usd, order_type=OrderType.GTC, reason="rest")]
        return [Intent.buy(side, size_usd=self.size_usd, reason="take")]
