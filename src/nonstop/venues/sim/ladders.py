"""Ladder sizes: liquidity sits at prices, so a book that moves a tick keeps most of its levels.

Within a size epoch (30 s) every price level of a market side has one size: the touch-like size
at and inside an anchor (the 1c level at the makers' centre when the epoch began), then growing
level by level away from it (`side_depth` shares over the window's levels). When the quote moves,
levels enter or leave at the edges but keep their sizes, which is both how resting liquidity
behaves and what lets the Level objects be reused from one second to the next (books are rebuilt
for every live market every venue second). Sizes are redrawn each epoch and scaled by the quote's
depth multiplier (close, shocks) and the losing-side thinning.
"""

from __future__ import annotations

import math
from typing import Callable

from nonstop.venues.base import Level
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.rand import NoiseTable
from nonstop.venues.sim.windows import SimMarket

Ladder = list[tuple[int, float]]  # (price in thousandths, shares), best first; shared: do not mutate
Levels = tuple[tuple[Level, ...], tuple[Level, ...]]  # one Up-ladder side as Up levels, and its Down mirror

SIZE_EPOCH_S = 30
_INSIDE = 24  # levels inside the anchor that get their own touch-like size (further ones reuse the last)
_CACHE_MAX = 1024  # grids kept (one per market side, epoch and depth level in use)

_new = object.__new__
_set_price = getattr(Level, "price").__set__  # the slot descriptors
_set_size = getattr(Level, "size").__set__


def make_level(price: float, size: float) -> Level:
    """Level(price, size) without the frozen-dataclass __init__ (hot path)."""
    lv = _new(Level)
    _set_price(lv, price)
    _set_size(lv, size)
    return lv


class _Grid:
    """One side's sizes and levels for one (epoch, depth, thinning, price offset), indexed by price // step,
    so a book's levels are a slice (C speed) rather than a loop over prices."""

    __slots__ = ("sizes", "ups", "downs", "filled")

    def __init__(self, n: int) -> None:
        self.filled = bytearray(n)  # a byte scan, not `None in levels` (which calls Level.__eq__ per level)
        self.sizes: list[float] = [0.0] * n
        self.ups: list[Level | None] = [None] * n
        self.downs: list[Level | None] = [None] * n


class Ladders:
    """Sizes and levels of every market side, kept per (epoch, depth, thinning)."""

    def __init__(self, cfg: SimConfig, noise: NoiseTable, centre: Callable[[SimMarket, float], float]) -> None:
        self._cfg = cfg
        self._noise = noise
        self._centre = centre  # the makers' quote centre at a time (tick-independent, deterministic)
        self._grids: dict[tuple[int, int, int, float, float, int], _Grid] = {}
        self._anchors: dict[tuple[int, int], int] = {}
        self._tables: dict[tuple[int, int, int], list[float]] = {}
        self._growth: dict[int, float] = {}
        self._step = round(cfg.level_step * 1000)  # thousandths between levels (1c)

    def epoch(self, m: SimMarket, t: float) -> int:
        return math.floor(t / SIZE_EPOCH_S) if t >= m.start else -1  # pre-open books sit still

    def ladder(self, m: SimMarket, t: float, side: int, best: int, tick: int, depth: float, thin: float) -> Ladder:
        """One side of the Up ladder (side +1 bids, -1 asks) from `best` as (price, shares), best first."""
        self.levels(m, t, side, best, tick, depth, thin)  # fills the sizes
        step = self._step
        grid = self._grid(m, self.epoch(m, t), side, depth, thin, best % step)
        return [(p, grid.sizes[p // step]) for p in self._prices(m, side, best, tick)]

    def _prices(self, m: SimMarket, side: int, best: int, tick: int) -> range:
        step = self._step
        return (range(best, tick - 1, -step) if side > 0 else range(best, 1000 - tick + 1, step))[:m.n_levels]

    def levels(self, m: SimMarket, t: float, side: int, best: int, tick: int, depth: float, thin: float) -> Levels:
        """The same side as Level tuples: on the Up book, and mirrored onto the Down book."""
        step = self._step
        prices = self._prices(m, side, best, tick)
        if not prices:
            return (), ()
        grid = self._grid(m, self.epoch(m, t), side, depth, thin, best % step)
        i, j = sorted((best // step, prices[-1] // step))
        if 0 in grid.filled[i:j + 1]:
            self._fill(grid, m, self.epoch(m, t), side, depth, thin, prices)
        ups = grid.ups[i:j + 1]
        downs = grid.downs[i:j + 1]
        if side > 0:  # bids are best first, i.e. descending
            ups.reverse()
            downs.reverse()
        return tuple(ups), tuple(downs)  # type: ignore[arg-type]

    def _grid(self, m: SimMarket, epoch: int, side: int, depth: float, thin: float, offset: int) -> _Grid:
        key = (m.key, epoch, side, depth, thin, offset)
        grid = self._grids.get(key)
        if grid is None:
            if len(self._grids) > _CACHE_MAX:
                self._grids.clear()
                self._anchors.clear()
                self._tables.clear()
            grid = self._grids[key] = _Grid(1000 // self._step + 1)
        return grid

    def _fill(self, grid: _Grid, m: SimMarket, epoch: int, side: int, depth: float, thin: float,
              prices: range) -> None:
        step = self._step
        anchor = self._anchor(m, epoch) + (0 if side > 0 else step)
        table = self._tables.get((m.key, epoch, side)) or self._table(m, epoch, side)
        inside, last = _INSIDE, len(table) - 1
        scale = self._cfg.top_size_median * depth * thin
        for p in prices:
            i = p // step
            if not grid.filled[i]:
                grid.filled[i] = 1
                j = (anchor - p) // step if side > 0 else (p - anchor) // step
                size = round(max(table[min(max(j + inside, 0), last)] * scale, 0.01), 2)
                grid.sizes[i] = size
                grid.ups[i] = make_level(p / 1000.0, size)
                grid.downs[i] = make_level((1000 - p) / 1000.0, size)

    def _anchor(self, m: SimMarket, epoch: int) -> int:
        a = self._anchors.get((m.key, epoch))
        if a is None:
            t = epoch * SIZE_EPOCH_S if epoch >= 0 else float(m.start) - 1.0
            a = self._anchors[(m.key, epoch)] = math.floor(self._centre(m, t) * 1000.0 / self._step) * self._step
        return a

    def _table(self, m: SimMarket, epoch: int, side: int) -> list[float]:
        """Relative sizes (touch = ~1) of levels j = -_INSIDE .. n-1 steps from the anchor, for one epoch:
        touch-like at and inside the anchor, growing by g per level beyond it."""
        n = m.n_levels
        g = self._growth.get(n) or self._solve_growth(n)
        z = self._noise.normals(_INSIDE + n, m.key, epoch, side)
        sd = self._cfg.top_size_sd_log
        table = [math.exp(sd * z[i]) for i in range(_INSIDE + 1)]
        table += [g ** j * math.exp(0.3 * z[_INSIDE + j]) for j in range(1, n)]
        self._tables[(m.key, epoch, side)] = table
        return table

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
