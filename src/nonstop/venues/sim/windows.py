"""The windows the simulator lists: one market per asset x timeframe x window start."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from nonstop.markets import ASSETS, TIMEFRAMES, MarketInfo, window_slug
from nonstop.venues.sim import rand
from nonstop.venues.sim.config import SimConfig


def token_id(slug: str, outcome: str) -> str:
    """A stable decimal token id per (slug, outcome), shaped like Polymarket's (long decimal strings)."""
    digest = hashlib.sha256(f"{slug}|{outcome}".encode()).digest()
    return str(int.from_bytes(digest[:16], "big"))


@dataclass(slots=True)
class SimMarket:
    """One window's market and the simulator's private facts about it."""

    key: int  # integer id for seeded noise
    info: MarketInfo
    asset: str
    timeframe: str
    start: int
    end: int
    listed_at: int
    n_levels: int  # ladder levels per side, fixed per window
    t30_spread_add: float  # extra spread in the last 30 s, drawn per window
    ptb_x: float | None = None  # the makers' exchange-side price to beat (the oracle's is in info)
    depth: float = 1.0  # book size multiplier of this asset and timeframe
    wide_share: float = 0.0  # share of seconds the makers quote twice the calm spread
    fine_tick: bool = False  # 0.001 tick regime; sticky (see BookMaker.update_tick)
    closed: bool = False

    @property
    def slug(self) -> str:
        return self.info.slug


def make_market(seed: int, cfg: SimConfig, asset: str, timeframe: str, start: int, tick: float) -> SimMarket:
    length = TIMEFRAMES[timeframe]
    slug = window_slug(asset, timeframe, start)
    key = rand.mix(ASSETS.index(asset), length, start)
    info = MarketInfo(slug=slug, asset=asset, timeframe=timeframe, start=start, end=start + length,
                      up_token=token_id(slug, "Up"), down_token=token_id(slug, "Down"), tick_size=tick,
                      min_size=cfg.min_size, fee_rate=cfg.fee_rate, fee_exponent=cfg.fee_exponent,
                      twap_lookback_s=cfg.twap_lookback_s if cfg.resolution_rule == "twap" else 0)
    u = (rand.mix(seed, rand.WINDOW, key) >> 11) * (1.0 / (1 << 53))
    lo_l, hi_l = cfg.levels
    lo_s, hi_s = cfg.spread_t30_add
    depth = cfg.asset(asset).depth_scale * (cfg.depth_5m_factor if timeframe == "5m" else 1.0)
    return SimMarket(key=key, info=info, asset=asset, timeframe=timeframe, start=start, end=start + length, depth=depth,
                     wide_share=cfg.asset(asset).wide_spread_share,
                     listed_at=start - cfg.list_ahead_s, n_levels=lo_l + int(u * (hi_l - lo_l + 1)) % (hi_l - lo_l + 1),
                     t30_spread_add=lo_s + (hi_s - lo_s) * ((u * 7919.0) % 1.0))


def due_windows(cfg: SimConfig, k: int) -> list[tuple[str, str, int]]:
    """(asset, timeframe, start) of every window that is listed at second k and not yet over."""
    out: list[tuple[str, str, int]] = []
    for asset in cfg.assets:
        for tf in cfg.timeframes:
            length = TIMEFRAMES[tf]
            first = (k // length) * length  # the window containing k
            start = first
            while start - cfg.list_ahead_s <= k:
                out.append((asset, tf, start))
                start += length
    return out
