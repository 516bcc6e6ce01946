"""Background taker flow: who trades each second, how much, and in which direction.

Per window, Poisson print counts (rate x asset volume scale, boosted over the last minute) and
lognormal USDC sizes are drawn once from (seed, market) and summed per second into five
buckets: uninformed buy Up / sell Up / buy Down / sell Down, and informed. Informed flow trades
toward where the makers' fair value will be `informed_horizon_s` later, which is what makes
resting orders adversely selected. Prints trade at the background touch; their volume is in
USDC notional (shares x price), like Gamma's `volume`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from nonstop.markets import TIMEFRAMES
from nonstop.venues.base import Side
from nonstop.venues.sim import rand
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.windows import SimMarket

BUY_UP, SELL_UP, BUY_DOWN, SELL_DOWN, INFORMED = range(5)
_CATS = 5


class Print(NamedTuple):
    """One second's aggregated taker flow of one kind on one token (a tuple: dozens per venue second)."""

    token_id: str
    taker_side: Side
    price: int  # thousandths, in the token's own terms
    shares: float
    usd: float
    up_side: int  # +1: lifted the Up asks (buy Up / sell Down); -1: hit the Up bids
    up_price: int  # the Up-ladder price it traded at


class FlowModel:
    """Per-second USDC taker flow of each window, generated once per window."""

    def __init__(self, seed: int, cfg: SimConfig) -> None:
        self._seed = seed
        self._cfg = cfg
        self._windows: dict[int, list[float]] = {}

    def usd(self, m: SimMarket, k: int) -> list[float]:
        """USDC flow per category in second k (k in [start, end)), five floats."""
        flat = self._windows.get(m.key)
        if flat is None:
            flat = self._generate(m)
            self._windows[m.key] = flat
        i = (k - m.start) * _CATS
        return flat[i:i + _CATS]

    def forget(self, m: SimMarket) -> None:
        self._windows.pop(m.key, None)

    def _generate(self, m: SimMarket) -> list[float]:
        cfg = self._cfg
        dur = TIMEFRAMES[m.timeframe]
        rng = rand.generator(self._seed, rand.FLOW, m.key)
        boost_s = min(60, dur)
        # Rates rise over the last minute; normalised so a window's total volume is unchanged.
        norm = (dur - boost_s + boost_s * cfg.close_flow_boost) / dur
        rate = np.full(dur, cfg.flow_rate[m.timeframe] * cfg.asset(m.asset).volume_scale / norm)
        rate[dur - boost_s:] *= cfg.close_flow_boost
        counts = rng.poisson(rate)
        n = int(counts.sum())
        s = cfg.print_sd_log
        sizes = np.exp(math.log(cfg.print_mean_usd) - s * s / 2.0 + s * rng.standard_normal(n))
        informed = rng.random(n) < cfg.informed_share
        cats = np.where(informed, INFORMED, rng.integers(0, 4, n))
        seconds = np.repeat(np.arange(dur), counts)
        flat = np.bincount(seconds * _CATS + cats, weights=sizes, minlength=dur * _CATS)
        return np.round(flat, 6).tolist()


def prints(m: SimMarket, usd: list[float], bid: int, ask: int, informed_up: bool | None) -> list[Print]:
    """Turn one second's USDC flow into prints at the background touch (Up bid/ask in thousandths)."""
    flows = list(usd[:4])
    if informed_up is not None and usd[INFORMED] > 0:
        flows[BUY_UP if informed_up else BUY_DOWN] += usd[INFORMED]
    up, down = m.info.up_token, m.info.down_token
    out: list[Print] = []
    for cat, amount in enumerate(flows):
        if amount <= 0:
            continue
        if cat == BUY_UP:
            out.append(Print(up, Side.BUY, ask, amount * 1000.0 / ask, amount, 1, ask))
        elif cat == SELL_UP:
            out.append(Print(up, Side.SELL, bid, amount * 1000.0 / bid, amount, -1, bid))
        elif cat == BUY_DOWN:
            out.append(Print(down, Side.BUY, 1000 - bid, amount * 1000.0 / (1000 - bid), amount, -1, bid))
        else:
            out.append(Print(down, Side.SELL, 1000 - ask, amount * 1000.0 / (1000 - ask), amount, 1, ask))
    return out
