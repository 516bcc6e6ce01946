"""Late-window snipe: in a window's last seconds, buy the side the price has already decided,
when the book sells it below its fair probability by a margin after fees. At most one fire a window.

Arms when the window is in its last `arm_seconds` and the estimated oracle price sits more than
`min_move_bps` from the price to beat; fires once when fair - ask - fee >= `margin`.
"""

from __future__ import annotations

from nonstop.strategy import Context, Intent, Outcome, fair_up_probability

STATE_VERSION = 1


class LateWindowSnipe:
    def __init__(self, params: dict) -> None:
        self.arm_seconds = float(params.get("arm_seconds", 90))
        self.min_seconds = float(params.get("min_seconds", 3))
        self.min_move_bps = float(params.get("min_move_bps", 3.0))
        self.margin = float(params.get("margin", 0.02))
        self.max_price = float(params.get("max_price", 0.97))
        self.sigma_floor = float(params.get("sigma_floor", 1e-5))
        self.size_usd = params.get("size_usd")

    def decide(self, ctx: Context) -> list[Intent]:
        w = ctx.window
        if w.fired or w.price_to_beat is None or ctx.spot is None:
            return []
        if not (self.min_seconds <= w.seconds_left <= self.arm_seconds):
            return []
        basis = ctx.indicators.get("basis", 0.0)
        estimate = ctx.spot - basis  # the fast price translated to the oracle's level
        move_bps = (estimate / w.price_to_beat - 1.0) * 1e4
        if abs(move_bps) < self.min_move_bps:
            return []
        side = Outcome.UP if move_bps > 0 else Outcome.DOWN
        out: list[Intent] = [] if w.armed else [Intent.arm(f"{side.value} {move_bps:+.1f} bps")]
        book = ctx.book(side)
        ask = book.best_ask if book else None
        if ask is None or ask > self.max_price:
            return out
        sigma = max(ctx.indicators.get("sigma_1s", 0.0), self.sigma_floor)
        center = estimate
        if ctx.twap is not None and w.seconds_left < 60:
            # Part of the final TWAP is already fixed: weight it by the seconds it covers.
            center = ((60 - w.seconds_left) * ctx.twap + w.seconds_left * estimate) / 60
        p_up = fair_up_probability(center, w.price_to_beat, w.seconds_left, sigma)
        fair = p_up if side is Outcome.UP else 1.0 - p_up
        fee = ctx.fee_rate * (ask * (1 - ask)) ** ctx.fee_exponent
        edge = fair - ask - fee
        if edge >= self.margin:
            out.append(Intent.buy(side, limit=ask, size_usd=self.size_usd,
                                  reason=f"fair {fair:.3f} ask {ask:.3f} edge {edge:+.3f}"))
        return out
