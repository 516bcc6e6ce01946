"""Momentum: mid-window, when the fast exchange price has run over the last `lookback_s`
seconds and the book has not caught up, buy the side it ran toward. At most one fire a window.
"""

from __future__ import annotations

from nonstop.strategy import Context, Intent, Outcome, fair_up_probability


class Momentum:
    def __init__(self, params: dict) -> None:
        self.lookback_s = int(params.get("lookback_s", 30))
        self.z_entry = float(params.get("z_entry", 2.0))
        self.margin = float(params.get("margin", 0.03))
        self.min_seconds = float(params.get("min_seconds", 60))
        self.max_price = float(params.get("max_price", 0.85))
        self.sigma_floor = float(params.get("sigma_floor", 1e-5))
        self.size_usd = params.get("size_usd")

    def decide(self, ctx: Context) -> list[Intent]:
        w = ctx.window
        if w.fired or w.price_to_beat is None or ctx.spot is None or w.seconds_left < self.min_seconds:
            return []
        ret = ctx.indicators.get(f"ret_{self.lookback_s}s")
        sigma = max(ctx.indicators.get("sigma_1s", 0.0), self.sigma_floor)
        if ret is None:
            return []
        z = ret / (sigma * self.lookback_s ** 0.5)
        if abs(z) < self.z_entry:
            return []
        side = Outcome.UP if z > 0 else Outcome.DOWN
        book = ctx.book(side)
        ask = book.best_ask if book else None
        if ask is None or ask > self.max_price:
            return []
        estimate = ctx.spot - ctx.indicators.get("basis", 0.0)
        p_up = fair_up_probability(estimate, w.price_to_beat, w.seconds_left, sigma)
        fair = p_up if side is Outcome.UP else 1.0 - p_up
        fee = ctx.fee_rate * (ask * (1 - ask)) ** ctx.fee_exponent
        if fair - ask - fee < self.margin:
            return []
        return [Intent.buy(side, limit=ask, size_usd=self.size_usd,
                           reason=f"z {z:+.1f} fair {fair:.3f} ask {ask:.3f}")]
