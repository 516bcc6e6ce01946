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
from nonstop.venues.sim.prices import PricePaths
from nonstop.venues.sim.rand import NoiseTable
from nonstop.venues.sim.windows import SimMarket

Ladder = list[tuple[int, float]]  # (price in thousandths, shares), best first

# Depth after a shock, by seconds since it: pulled, refilled, overshooting, back to normal (reference §3.5).
_DEPTH_AFTER = (0.2, 0.33, 0.5, 0.62, 0.72, 0.8, 0.95, 1.15, 1.35, 1.55, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.05)
_SIZE_EPOCH_S = 5  # ladder sizes are redrawn this often (books breathe, without per-bucket noise cost)
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
        self._ladders: dict[tuple[int, int], tuple[Ladder, Ladder]] = {}
        self._sizes: dict[tuple[int, int, float, float, float], tuple[tuple[float, ...], tuple[float, ...]]] = {}
        self._level_cache: dict[tuple[int, int, int, int, tuple[float, ...]],
                                tuple[tuple[Level, ...], tuple[Level, ...]]] = {}
        self._base: dict[tuple[int, int], tuple[list[float], list[float]]] = {}
        self._growth: dict[int, float] = {}
        self._step = round(cfg.level_step * 1000)
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
            x = math.log(p / (1.0 - p)) + cfg.mm_noise_logit * self._noise.normal(m.key, math.floor(te), 1)
            c = 1.0 / (1.0 + math.exp(-x))
            half += widen
            u = self._noise.uniform(m.key, math.floor(te), 2)
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
        """Background Up bids and asks (best first) at `t`, before anyone's trades."""
        b = self.bucket(t)
        cached = self._ladders.get((m.key, b))
        if cached is not None:
            return cached
        if len(self._ladders) > _CACHE_MAX:
            self._ladders.clear()
        q = self.quote(m, t)
        bid_sizes, ask_sizes = self._sized(m, t, q)
        step = self._step
        result = (list(zip(range(q.bid, q.tick - 1, -step), bid_sizes)),
                  list(zip(range(q.ask, 1000 - q.tick + 1, step), ask_sizes)))
        self._ladders[(m.key, b)] = result
        return result

    def books(self, m: SimMarket, t: float, q: Quote | None = None) -> tuple[Book, Book]:
        """Up and Down books of the background ladder at `t`; level tuples are shared while unchanged."""
        q = q or self.quote(m, t)
        bid_sizes, ask_sizes = self._sized(m, t, q)
        up_bids, down_asks = self._levels(m, q.bid, -self._step, q.tick, bid_sizes)
        up_asks, down_bids = self._levels(m, q.ask, self._step, q.tick, ask_sizes)
        return _book(m.info.up_token, up_bids, up_asks, t), _book(m.info.down_token, down_bids, down_asks, t)

    def _levels(self, m: SimMarket, best: int, step: int, tick: int,
                sizes: tuple[float, ...]) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        key = (m.key, best, step, tick, sizes)
        hit = self._level_cache.get(key)
        if hit is not None:
            return hit
        if len(self._level_cache) > _CACHE_MAX:
            self._level_cache.clear()
        stop = tick - 1 if step < 0 else 1000 - tick + 1
        pairs = list(zip(range(best, stop, step), sizes))
        hit = (tuple([_level(p / 1000.0, s) for p, s in pairs]), tuple([_level((1000 - p) / 1000.0, s) for p, s in pairs]))
        self._level_cache[key] = hit
        return hit

    def size_epoch(self, m: SimMarket, t: float) -> int:
        return math.floor(t / _SIZE_EPOCH_S) if t >= m.start else -1  # pre-open books sit still

    def _sized(self, m: SimMarket, t: float, q: Quote) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Shares per level on each side: base sizes of the epoch times the quote's depth multipliers."""
        epoch = self.size_epoch(m, t)
        key = (m.key, epoch, q.depth, q.bid_thin, q.ask_thin)
        hit = self._sizes.get(key)
        if hit is not None:
            return hit
        if len(self._sizes) > _CACHE_MAX:
            self._sizes.clear()
        base = self._base.get((m.key, epoch))
        if base is None:
            if len(self._base) > _CACHE_MAX:
                self._base.clear()
            base = self._base[(m.key, epoch)] = self._base_sizes(m, epoch)
        scale = q.depth * self._cfg.top_size_median
        hit = (tuple(round(max(x * scale * q.bid_thin, 0.01), 2) for x in base[0]),
               tuple(round(max(x * scale * q.ask_thin, 0.01), 2) for x in base[1]))
        self._sizes[key] = hit
        return hit

    def _base_sizes(self, m: SimMarket, epoch: int) -> tuple[list[float], list[float]]:
        """Relative level sizes (touch ~1, then growing) of one size epoch, both sides."""
        cfg, n = self._cfg, m.n_levels
        g = self._growth.get(n) or self._solve_growth(n)
        sides: list[list[float]] = []
        for side in (0, 1):
            z = self._noise.normals(n, m.key, epoch, side)
            sides.append([math.exp(cfg.top_size_sd_log * z[0])] + [g ** i * math.exp(0.3 * z[i]) for i in range(1, n)])
        return sides[0], sides[1]

    def _solve_growth(self, n: int) -> float:
        """Level-to-level growth so that n levels hold `side_depth` shares, starting from the touch size."""
        target = self._cfg.side_depth / self._cfg.top_size_median
        lo, hi = 1.0, 10.0
        for _ in range(60):
            mid = (lo + hi) / 2.0
            if (mid ** n - 1.0) / (mid - 1.0) < target:
                lo = mid
            else:
                hi = mid
        self._growth[n] = lo
        return lo


_new = object.__new__
_set_price = getattr(Level, "price").__set__  # the slot descriptors
_set_size = getattr(Level, "size").__set__


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


def _level(price: float, size: float) -> Level:
    """Level(price, size) without the frozen-dataclass __init__ (books are rebuilt every second)."""
    lv = _new(Level)
    _set_price(lv, price)
    _set_size(lv, size)
    return lv


def to_books(m: SimMarket, bids: Ladder, asks: Ladder, ts: float) -> tuple[Book, Book]:
    """Up and Down books from the Up ladder: the Down side is the mirror image."""
    up = Book(m.info.up_token, tuple(Level(p / 1000.0, s) for p, s in bids),
              tuple(Level(p / 1000.0, s) for p, s in asks), ts)
    down = Book(m.info.down_token, tuple(Level((1000 - p) / 1000.0, s) for p, s in asks),
                tuple(Level((1000 - p) / 1000.0, s) for p, s in bids), ts)
    return up, down
