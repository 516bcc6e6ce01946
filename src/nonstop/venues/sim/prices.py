"""Exchange price paths: one seeded 1 Hz path per asset, generated an hour at a time.

Every chunk is drawn from a generator keyed by (seed, asset, chunk index) and chunks are always
generated in order from the origin, so a price depends on (seed, asset, second) only: never on
the wall clock or on how the simulator is driven. The hour is also the vol regime period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nonstop.markets import ASSETS
from nonstop.venues.sim import rand
from nonstop.venues.sim.chunks import CHUNK_S, ChunkedSeries
from nonstop.venues.sim.config import SimConfig

SECONDS_PER_YEAR = 31_536_000
_DECAY_S = 10  # a spread widened by a shock decays back to calm over this many seconds
_NO_SHOCK = -(10**9)


@dataclass(slots=True)
class _Chunk:
    t0: int
    price: list[float]
    csum: list[float]  # running sum of prices since the origin, for O(1) TWAP partial sums
    sigma: float  # per sqrt(second), regime applied
    shock: list[int]  # 0 calm, 1 move > 3 sigma, 2 move > 6 sigma (the 1 s move ending here)
    widen: list[float]  # extra half-spread the market makers add after shocks
    last_shock: list[int]  # unix second of the latest shock at or before this second
    carry: tuple[float, float, int, list[float]]  # what the next chunk continues from (log, csum, shock, tail)


class PricePaths(ChunkedSeries[_Chunk]):
    """The fast exchange price (what a Binance feed sees) of every asset, lazily generated."""

    _before_origin = "second {k} is before the simulator's price origin {origin}; raise warmup_s or start later"

    def __init__(self, seed: int, config: SimConfig) -> None:
        super().__init__(config.start_time - config.warmup_s, config.assets)
        self._seed = seed
        self._cfg = config

    # -- lookups -------------------------------------------------------------

    def price(self, asset: str, k: int) -> float:
        chunk, i = self._at(asset, k)
        return chunk.price[i]

    def price_at(self, asset: str, t: float) -> float:
        """Linear interpolation between the 1 Hz ticks (the book's lagged view may fall between)."""
        k = math.floor(t)
        frac = t - k
        p0 = self.price(asset, k)
        if frac <= 1e-9:
            return p0
        return p0 + frac * (self.price(asset, k + 1) - p0)

    def view(self, asset: str, t: float) -> tuple[float, float, float, int, int]:
        """What the makers see at `t`, in one lookup: (price, sigma, extra half-spread, shock in the
        next second (0/1/2), seconds since the last shock). Hot path: one call per quote."""
        k = math.floor(t)
        chunk, i = self._at(asset, k)
        p0 = chunk.price[i]
        if i + 1 < CHUNK_S:
            p1, nxt = chunk.price[i + 1], chunk.shock[i + 1]
        else:
            after, j = self._at(asset, k + 1)
            p1, nxt = after.price[j], after.shock[j]
        return p0 + (t - k) * (p1 - p0), chunk.sigma, chunk.widen[i], nxt, k - chunk.last_shock[i]

    def sum_between(self, asset: str, a: int, b: int) -> float:
        """Sum of the prices at integer seconds a..b inclusive (0.0 when b < a)."""
        if b < a:
            return 0.0
        chunk_b, ib = self._at(asset, b)
        chunk_a, ia = self._at(asset, a)
        return chunk_b.csum[ib] - chunk_a.csum[ia] + chunk_a.price[ia]

    def sigma(self, asset: str, t: float) -> float:
        """Volatility per sqrt(second) in force at `t` (the market makers are assumed to know it)."""
        return self._at(asset, math.floor(t))[0].sigma

    def shock(self, asset: str, k: int) -> int:
        chunk, i = self._at(asset, k)
        return chunk.shock[i]

    def widen(self, asset: str, k: int) -> float:
        chunk, i = self._at(asset, k)
        return chunk.widen[i]

    def shock_age(self, asset: str, k: int) -> int:
        chunk, i = self._at(asset, k)
        return k - chunk.last_shock[i]

    def array(self, asset: str, a: int, b: int) -> np.ndarray:
        """Prices at seconds a..b-1 as an array (for statistics, the oracle and benchmarks)."""
        out: list[float] = []
        k = a
        while k < b:
            chunk, i = self._at(asset, k)
            take = min(b - k, CHUNK_S - i)
            out.extend(chunk.price[i:i + take])
            k += take
        return np.array(out, dtype=float)

    # -- generation ----------------------------------------------------------

    def _generate(self, asset: str, c: int, carry: tuple[float, float, int, list[float]] | None) -> _Chunk:
        cfg = self._cfg
        params = cfg.asset(asset)
        rng = rand.generator(self._seed, rand.PRICE, ASSETS.index(asset), c)
        base_sigma = params.annual_vol / math.sqrt(SECONDS_PER_YEAR)
        sd = cfg.regime_sd_log
        # Variance-normalised multiplier (E[m^2] = 1): realised vol over many hours equals annual_vol.
        regime = math.exp(sd * float(rng.standard_normal()) - sd * sd)
        sigma = base_sigma * regime
        nu = cfg.student_t_nu
        z = rng.standard_t(nu, CHUNK_S) / math.sqrt(nu / (nu - 2.0))
        r = sigma * z
        n_jumps = int(rng.poisson(cfg.jump_rate_per_day * CHUNK_S / 86_400.0))
        pos = rng.integers(0, CHUNK_S, n_jumps)
        lo, hi = cfg.jump_sigma60
        size = rng.uniform(lo, hi, n_jumps) * rng.choice([-1.0, 1.0], n_jumps) * base_sigma * math.sqrt(60.0)
        np.add.at(r, pos, size)
        if carry is None:
            r[0] = 0.0
            log_prev = math.log(params.start_price)
            csum_prev, last_prev, tail = 0.0, _NO_SHOCK, [0.0] * (_DECAY_S - 1)
        else:
            log_prev, csum_prev, last_prev, tail = carry
        logp = log_prev + np.cumsum(r)
        price = np.round(np.exp(logp), params.price_decimals)
        t0 = self.origin + c * CHUNK_S
        move = np.abs(r) / sigma
        lo_s, hi_s = cfg.shock_sigmas
        shock = np.where(move > hi_s, 2, np.where(move > lo_s, 1, 0))
        # Spread 2x calm after a 3-sigma second, 4x after a 6-sigma one: extra half-spread 0.5x / 1.5x.
        add = np.where(shock == 2, 1.5 * cfg.spread, np.where(shock == 1, 0.5 * cfg.spread, 0.0))
        ext = np.concatenate([np.array(tail), add])
        widen = np.zeros(CHUNK_S)
        for j in range(_DECAY_S):
            widen = np.maximum(widen, ext[_DECAY_S - 1 - j: _DECAY_S - 1 - j + CHUNK_S] * (1.0 - j / _DECAY_S))
        seconds = np.arange(t0, t0 + CHUNK_S)
        last = np.maximum.accumulate(np.where(shock > 0, seconds, last_prev))
        csum = (csum_prev + np.cumsum(price)).tolist()
        return _Chunk(t0=t0, price=price.tolist(), csum=csum, sigma=sigma, shock=shock.tolist(), widen=widen.tolist(),
                      last_shock=last.tolist(),
                      carry=(float(logp[-1]), csum[-1], int(last[-1]), ext[-(_DECAY_S - 1):].tolist()))
