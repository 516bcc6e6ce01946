"""The Chainlink-like oracle: 1 Hz integer-second samples a little below the exchange, delivered late.

Also the resolution rule as a pure function: `resolve(samples, start, end, rule)`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, Mapping

import numpy as np

from nonstop.markets import ASSETS, Outcome
from nonstop.venues.sim import rand
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.chunks import CHUNK_S, ChunkedSeries
from nonstop.venues.sim.prices import PricePaths

_KNOT_S = 60  # the offset wanders smoothly: AR(1) knots a minute apart, linear in between
_MIN_DELAY_S = 0.2


@dataclass(frozen=True, slots=True)
class Resolved:
    winner: Outcome
    final_value: float
    price_to_beat: float


def twap_of(samples: Mapping[int, float], t: int, lookback: int) -> float:
    """Mean of the last `lookback` samples stamped at or before `t`."""
    keys = sorted(k for k in samples if k <= t)[-lookback:]
    if not keys:
        raise ValueError(f"no oracle sample at or before {t}")
    return math.fsum(samples[k] for k in keys) / len(keys)


def spot_of(samples: Mapping[int, float], t: int) -> float:
    """The latest sample stamped at or before `t`."""
    keys = [k for k in samples if k <= t]
    if not keys:
        raise ValueError(f"no oracle sample at or before {t}")
    return samples[max(keys)]


def resolve(samples: Mapping[int, float], start: int, end: int, rule: Literal["twap", "spot"] = "twap",
            lookback: int = 60) -> Resolved:
    """Up iff the final value >= the price to beat (ties go Up).

    twap: price to beat = TWAP over `lookback` samples at the window start, final = the same at the end.
    spot: the oracle sample at the start versus the one at the end.
    """
    if rule == "twap":
        ptb, final = twap_of(samples, start, lookback), twap_of(samples, end, lookback)
    elif rule == "spot":
        ptb, final = spot_of(samples, start), spot_of(samples, end)
    else:
        raise ValueError(f"resolution rule {rule!r}: use 'twap' or 'spot'")
    return Resolved(Outcome.UP if final >= ptb else Outcome.DOWN, final, ptb)


@dataclass(slots=True)
class _Chunk:
    value: list[float]
    delivery: list[float]
    carry: tuple[float, float]  # (last offset knot, last delivery time): what the next chunk continues from


class Oracle(ChunkedSeries[_Chunk]):
    """Oracle samples per asset: value stamped at second k, and when it reaches subscribers."""

    _before_origin = "oracle second {k} is before the origin {origin}"

    def __init__(self, seed: int, config: SimConfig, paths: PricePaths) -> None:
        super().__init__(paths.origin, config.assets)
        self._seed = seed
        self._cfg = config
        self._paths = paths

    def value(self, asset: str, k: int) -> float:
        chunk, i = self._at(asset, k)
        return chunk.value[i]

    def delivered_at(self, asset: str, k: int) -> float:
        chunk, i = self._at(asset, k)
        return chunk.delivery[i]

    def samples(self, asset: str, a: int, b: int) -> dict[int, float]:
        """Samples stamped a..b inclusive."""
        return {k: self.value(asset, k) for k in range(a, b + 1)}

    def resolve(self, asset: str, start: int, end: int) -> Resolved:
        lookback = self._cfg.twap_lookback_s
        return resolve(self.samples(asset, start - lookback + 1, end), start, end,
                       self._cfg.resolution_rule, lookback)

    def price_to_beat(self, asset: str, start: int) -> float:
        lookback = self._cfg.twap_lookback_s
        if self._cfg.resolution_rule == "spot":
            return self.value(asset, start)
        return twap_of(self.samples(asset, start - lookback + 1, start), start, lookback)

    def _generate(self, asset: str, c: int, carry: tuple[float, float] | None) -> _Chunk:
        cfg = self._cfg
        params = cfg.asset(asset)
        rng = rand.generator(self._seed, rand.ORACLE, ASSETS.index(asset), c)
        n_knots = CHUNK_S // _KNOT_S
        phi = math.exp(-_KNOT_S * math.log(2.0) / cfg.oracle_offset_halflife_s)
        shocks = rng.standard_normal(n_knots + 1)
        knots = [float(shocks[0]) if carry is None else carry[0]]
        for i in range(1, n_knots + 1):
            knots.append(phi * knots[-1] + math.sqrt(1.0 - phi * phi) * float(shocks[i]))
        wander = np.interp(np.arange(CHUNK_S), np.arange(0, CHUNK_S + 1, _KNOT_S), np.array(knots))
        t0 = self.origin + c * CHUNK_S
        exch = self._paths.array(asset, t0, t0 + CHUNK_S)
        frac = params.oracle_offset_frac + params.oracle_offset_sd_frac * wander
        value = np.round(exch * (1.0 - frac), 8)
        s = math.log(cfg.oracle_delay_p95_s / cfg.oracle_delay_median_s) / 1.6449
        delay = np.clip(cfg.oracle_delay_median_s * np.exp(s * rng.standard_normal(CHUNK_S)),
                        _MIN_DELAY_S, cfg.oracle_delay_max_s)
        delivery = np.round(np.arange(t0, t0 + CHUNK_S) + delay, 3)
        if carry is not None:
            delivery[0] = max(delivery[0], carry[1])
        # Subscribers see samples in stamp order: a late sample holds back the ones after it.
        delivery = np.maximum.accumulate(delivery)
        return _Chunk(value=value.tolist(), delivery=delivery.tolist(), carry=(knots[-1], float(delivery[-1])))
