"""The market makers' books: P(Up) from the exchange price, quoted with lag, noise and depth.

A book is a pure function of (seed, market, venue time), computed lazily and cached per time
bucket, so the matching engine can ask for the book at order time + taker delay and get the
same answer however the simulator is being driven. Prices are integer thousandths internally
and every market is kept as its *Up* ladder; the Down book is its mirror (Down bid at 1-p is
the Up ask at p), which is what makes the two tokens consistent.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from nonstop.strategy import fair_up_probability
from nonstop.venues.base import Book, Level
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.ladders import Ladder, Ladders, make_level
from nonstop.venues.sim.prices import PricePaths
from nonstop.venues.sim.rand import NoiseTable
from nonstop.venues.sim.windows import SimMarket


# Depth after a shock, by seconds since it: pulled, refilled, overshooting, back to normal (reference §3.5).
# In plateaus, so sizes (and the Level objects built from them) change a few times per shock, not every second.
_DEPTH_AFTER = (0.2, 0.35, 0.35, 0.8, 0.8, 0.8, 0.8, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6, 1.6)
_CACHE_MAX = 4096


class Quote(NamedTuple):
    """The makers' top of book for one market at one time bucket (a tuple: built every second)."""

    fair: float  # the makers' P(Up), before noise
    center: float  # what they quote around
    tick: int  # thousandths: 10 or 1
    bid: int  # best Up bid, thousandths
    ask: int  # best Up ask
    depth: float  # size multiplier (asset, timeframe, close, shocks)
    bid_thin: float  # extra multiplier on Up bids (= Down asks)
    ask_thin: float


class BookMaker:
    """Fair values, quotes and background ladders of every market (all accounts see the same)."""

    def __init__(self, cfg: SimConfig, paths: PricePaths, noise: NoiseTable) -> None:
        self._cfg = cfg
        self._paths = paths
        self._noise = noise
        self._quotes: dict[tuple[int, int], Quote] = {}
        self._ladders = Ladders(cfg, noise, lambda m, t: self.quote(m, t).center)
        self._bucket_s = cfg.book_bucket_s

    def bucket(self, t: float) -> int:
        return math.floor(t / self._bucket_s + 1e-6)

    # -- fair value --------------------------------------------------------------

    def fair(self, m: SimMarket, t: float) -> float:
        """P(Up) as the makers see it at `t`: from the exchange price `mm_lag_s` earlier."""
        te = t - self._cfg.mm_lag_s
        if te < m.start:
            return 0.5  # the strike is not set yet
        spot, sigma = self._paths.view(m.asset, te)[:2]
        return self._fair(m, te, spot, sigma)

    def _fair(self, m: SimMarket, te: float, spot: float, sigma: float) -> float:
        cfg, paths, asset = self._cfg, self._paths, m.asset
        tau = max(m.end - te, 0.0)
        if cfg.resolution_rule == "spot":
            if m.ptb_x is None:
                m.ptb_x = paths.price(asset, m.start)
            return fair_up_probability(spot, m.ptb_x, tau, sigma, 1e-9)
        lookback = cfg.twap_lookback_s
        if m.ptb_x is None:
            m.ptb_x = paths.sum_between(asset, m.start - lookback + 1, m.start) / lookback
        expected = spot
        if tau < lookback:
            # Part of the final TWAP is already fixed: its expectation mixes known samples and spot.
            first, k = m.end - lookback + 1, min(math.floor(te), m.end)
            known = max(0, k - first + 1)
            expected = (paths.sum_between(asset, first, k) + (lookback - known) * spot) / lookback
        return fair_up_probability(expected, m.ptb_x, tau, sigma, lookback)

    # -- quotes ------------------------------------------------------------------

    def quote(self, m: SimMarket, t: float) -> Quote:
        if t - self._cfg.mm_lag_s < m.start:
            b = -1  # before the open the makers quote 0.5 and sit still
        else:
            b = math.floor(t / self._bucket_s + 1e-6)
        cached = self._quotes.get((m.key, b))
        if cached is not None:
            return cached
        if len(self._quotes) > _CACHE_MAX:
            self._quotes.clear()
        q = self._quote(m, t if b < 0 else b * self._bucket_s)
        self._quotes[(m.key, b)] = q
        return q

    def _quote(self, m: SimMarket, t: float) -> Quote:
        cfg = self._cfg
        te = t - cfg.mm_lag_s
        tau = m.end - t
        depth = m.depth
        if tau <= 30:
            depth *= cfg.depth_close_factor
        half = cfg.spread / 2.0
        if te < m.start:
            p, c = 0.5, 0.5  # nothing here may depend on t: the pre-open quote is cached once
        else:
            spot, sigma, widen, shock_next, age = self._paths.view(m.asset, te)
            p = min(max(self._fair(m, te, spot, sigma), 1e-6), 1.0 - 1e-6)
            z, u = self._noise.normal_and_uniform(m.key, math.floor(te), 1)
            x = math.log(p / (1.0 - p)) + cfg.mm_noise_logit * z
            c = 1.0 / (1.0 + math.exp(-x))
            half += widen
            if u < m.wide_share:  # some seconds the makers just quote wider (thinner coins more often)
                half += cfg.spread if u < m.wide_share / 3.0 else cfg.spread / 2.0
            if shock_next:
                depth *= _DEPTH_AFTER[0]  # informed makers pull ahead of the move
            elif age < len(_DEPTH_AFTER):
                depth *= _DEPTH_AFTER[age]
        if tau <= 30:
            half += m.t30_spread_add / 2.0
        elif tau <= 60:
            half += cfg.spread_t60_add / 2.0
        tick = 1 if m.fine_tick else 10
        if tick == 1:
            half *= max(0.3, min(1.0, min(c, 1.0 - c) / 0.03))  # near certainty quotes tighten with the tick
        width = max(1, math.floor(2.0 * half * 1000.0 / tick + 0.5))
        bid = math.floor((c * 1000.0 - width * tick / 2.0) / tick + 0.5) * tick
        ask = bid + width * tick
        if ask > 1000 - tick:
            ask = 1000 - tick
            bid = min(bid, ask - tick)
        if bid < tick:
            bid = tick
            ask = max(ask, bid + tick)
        bid_thin = cfg.loser_thin_factor if c < 1.0 - cfg.loser_thin_above else 1.0
        ask_thin = cfg.loser_thin_factor if c > cfg.loser_thin_above else 1.0
        return Quote(p, c, tick, bid, ask, depth, bid_thin, ask_thin)

    def update_tick(self, m: SimMarket, k: int) -> bool:
        """Move the market's tick regime at venue second k, with hysteresis.

        The tick turns 0.001 once the quote leaves [0.04, 0.96] and back to 0.01 only inside
        [0.06, 0.94], so a price hovering at the boundary does not flap the tick every second.
        Called once per second in time order, so the regime is the same however the venue is polled.
        Returns whether the tick changed.
        """
        c = self.quote(m, k).center
        was = m.fine_tick
        m.fine_tick = not (0.06 <= c <= 0.94) if was else (c < 0.04 or c > 0.96)
        return m.fine_tick != was

    # -- ladders -----------------------------------------------------------------

    def ladder(self, m: SimMarket, t: float) -> tuple[Ladder, Ladder]:
        """Background Up bids and asks (best first) at `t`, before anyone's trades. Shared: do not mutate."""
        q = self.quote(m, t)
        bids = self._ladders.ladder(m, t, 1, q.bid, q.tick, q.depth, q.bid_thin)
        asks = self._ladders.ladder(m, t, -1, q.ask, q.tick, q.depth, q.ask_thin)
        return bids, asks

    def books(self, m: SimMarket, t: float, q: Quote | None = None) -> tuple[Book, Book]:
        """Up and Down books of the background ladder at `t` (level objects shared while unchanged)."""
        q = q or self.quote(m, t)
        up_bids, down_asks = self._ladders.levels(m, t, 1, q.bid, q.tick, q.depth, q.bid_thin)
        up_asks, down_bids = self._ladders.levels(m, t, -1, q.ask, q.tick, q.depth, q.ask_thin)
        return _book(m.info.up_token, up_bids, up_asks, t), _book(m.info.down_token, down_bids, down_asks, t)

    def size_epoch(self, m: SimMarket, t: float) -> int:
        return self._ladders.epoch(m, t)


_new = object.__new__
_book_fields = [getattr(Book, f).__set__ for f in ("token_id", "bids", "asks", "ts")]


def _book(token_id: str, bids: tuple[Level, ...], asks: tuple[Level, ...], ts: float) -> Book:
    """Book(...) without the frozen-dataclass __init__ (two per live market per venue second)."""
    b = _new(Book)
    set_token, set_bids, set_asks, set_ts = _book_fields
    set_token(b, token_id)
    set_bids(b, bids)
    set_asks(b, asks)
    set_ts(b, ts)
    return b


def to_books(m: SimMarket, bids: Ladder, asks: Ladder, ts: float) -> tuple[Book, Book]:
    """Up and Down books from the Up ladder: the Down side is the mirror image."""
    up = _book(m.info.up_token, tuple([make_level(p / 1000.0, s) for p, s in bids]),
               tuple([make_level(p / 1000.0, s) for p, s in asks]), ts)
    down = _book(m.info.down_token, tuple([make_level((1000 - p) / 1000.0, s) for p, s in asks]),
                 tuple([make_level((1000 - p) / 1000.0, s) for p, s in bids]), ts)
    return up, down
