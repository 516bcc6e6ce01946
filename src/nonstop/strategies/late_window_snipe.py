"""Late-window snipe: in a window's last seconds, buy the side the price has already decided,
when the book sells it below its fair probability by a margin after fees. At most one fire a window.

Arms when the window is in its last `arm_seconds` and the oracle-level price sits more than
`min_move_bps` from the price to beat; fires once when fair - ask - fee >= `margin` and the
ask is between `min_price` and `max_price`.

Fair probability: the final oracle TWAP under Brownian motion. The part of the TWAP already
fixed (oracle samples inside the final lookback, kept in ctx.memory) is known; the rest is
centred on the exchange price moved to the oracle's level by a smoothed basis. The 1 s sigma is
the realised one times `vol_mult`: prices have fat tails and vol regimes, and a model that is
over-confident buys 0.95 favourites that win 90 % of the time, which loses money after fees.
"""

from __future__ import annotations

from typing import Any, MutableMapping

from nonstop.strategy import Context, Intent, Outcome, fair_up_probability

STATE_VERSION = 2


class LateWindowSnipe:
    def __init__(self, params: dict) -> None:
        self.arm_seconds = float(params.get("arm_seconds", 90))
        self.min_seconds = float(params.get("min_seconds", 3))
        self.min_move_bps = float(params.get("min_move_bps", 3.0))
        self.margin = float(params.get("margin", 0.02))
        self.min_price = float(params.get("min_price", 0.55))
        self.max_price = float(params.get("max_price", 0.97))
        self.vol_mult = float(params.get("vol_mult", 1.25))
        self.sigma_floor = float(params.get("sigma_floor", 1e-5))
        self.basis_alpha = float(params.get("basis_alpha", 0.05))
        self.size_usd = params.get("size_usd")

    def decide(self, ctx: Context) -> list[Intent]:
        w = ctx.window
        mem = ctx.memory
        basis = self._basis(ctx, mem)
        if w.fired or w.price_to_beat is None or ctx.spot is None or basis is None:
            return []
        lookback = 60.0
        self._track_twap(ctx, mem, lookback)
        if not (self.min_seconds <= w.seconds_left <= self.arm_seconds):
            return []
        estimate = ctx.spot - basis  # the fast price translated to the oracle's level
        move_bps = (estimate / w.price_to_beat - 1.0) * 1e4
        if abs(move_bps) < self.min_move_bps:
            return []
        side = Outcome.UP if move_bps > 0 else Outcome.DOWN
        out: list[Intent] = [] if w.armed else [Intent.arm(f"{side.value} {move_bps:+.1f} bps")]
        book = ctx.book(side)
        ask = book.best_ask if book else None
        if ask is None or not (self.min_price <= ask <= self.max_price):
            return out
        sigma = max(ctx.indicators.get("sigma_1s", 0.0), self.sigma_floor) * self.vol_mult
        center = estimate
        known_n = mem.get("twap_n", 0)
        if w.seconds_left < lookback and known_n:
            # Part of the final TWAP is fixed already: weight the known mean by the seconds it covers.
            covered = min(lookback - w.seconds_left, float(known_n))
            known = mem["twap_sum"] / known_n
            center = (covered * known + (lookback - covered) * estimate) / lookback
        p_up = fair_up_probability(center, w.price_to_beat, w.seconds_left, sigma, lookback)
        fair = p_up if side is Outcome.UP else 1.0 - p_up
        fee = ctx.fee_rate * (ask * (1 - ask)) ** ctx.fee_exponent
        edge = fair - ask - fee
        if edge >= self.margin:
            out.append(Intent.buy(side, limit=ask, size_usd=self.size_usd,
                                  reason=f"fair {fair:.3f} ask {ask:.3f} fee {fee:.3f} edge {edge:+.3f}"))
        return out

    def _basis(self, ctx: Context, mem: MutableMapping[str, Any]) -> float | None:
        """Exchange minus oracle, smoothed: the oracle lags ~1 s, an instant difference is mostly lag."""
        if ctx.spot is None or ctx.oracle is None:
            return mem.get("basis")
        raw = ctx.spot - ctx.oracle
        old = mem.get("basis")
        mem["basis"] = raw if old is None else old + self.basis_alpha * (raw - old)
        return mem["basis"]

    @staticmethod
    def _track_twap(ctx: Context, mem: MutableMapping[str, Any], lookback: float) -> None:
        """Sum the oracle prices seen inside the final lookback (once a cycle ~ once a sample)."""
        if ctx.oracle is not None and ctx.window.seconds_left < lookback:
            mem["twap_sum"] = mem.get("twap_sum", 0.0) + ctx.oracle
            mem["twap_n"] = mem.get("twap_n", 0) + 1

    @staticmethod
    def migrate(memory: dict, from_version: int) -> dict:
        # Version 1 kept nothing the new code needs; start the window's memory afresh.
        return {} if from_version < 2 else memory
