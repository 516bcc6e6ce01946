"""Step 5: ask each enabled slot's strategy for intents, through a read-only Context.

A strategy that raises is caught per slot, counted and reported; the others go on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from nonstop.engine.indicators import IndicatorEngine
from nonstop.engine.market_data import MarketData
from nonstop.engine.memory import MemoryStore
from nonstop.home.config import SlotConfig
from nonstop.markets import MarketInfo
from nonstop.state.positions import PositionManager
from nonstop.strategy import Context, Intent, PositionView, WindowView


@dataclass
class SlotRuntime:
    """What the engine knows about a slot this window; rebuilt, never persisted."""

    config: SlotConfig
    market: MarketInfo | None = None
    armed: dict[str, str] = field(default_factory=dict)  # slug -> reason
    last_decision: str = ""
    errors: int = 0
    consecutive_errors: int = 0
    enabled: bool = True
    decide_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class SlotDecision:
    slot: SlotRuntime
    ctx: Context
    intents: list[Intent]


def build_context(now: float, rt: SlotRuntime, market: MarketInfo, data: MarketData, ind: IndicatorEngine,
                  positions: PositionManager, memory: MemoryStore, params: dict[str, Any],
                  state_version: int) -> Context:
    cfg = rt.config
    pos = positions.position(cfg.id, market.slug)
    view = PositionView(pos.up_shares, pos.down_shares, pos.cost, len(positions.open_orders(cfg.id))) if pos \
        else PositionView()
    window = WindowView(market.slug, market.start, market.end, market.end - now, market.price_to_beat,
                        market.slug in rt.armed, positions.fired(cfg.id, market.slug))
    oracle = data.oracle_last(cfg.asset)
    return Context(
        now=now, slot_id=cfg.id, asset=cfg.asset, timeframe=cfg.timeframe, window=window,
        spot=data.spot.get(cfg.asset), oracle=oracle, twap=data.twap(cfg.asset, now, market.twap_lookback_s),
        up_book=data.books.get(market.up_token), down_book=data.books.get(market.down_token), position=view,
        indicators=MappingProxyType(ind.values(cfg.asset, cfg.timeframe, market.start, oracle)),
        memory=memory.cell(cfg.id, market.slug, state_version).data, params=MappingProxyType(params),
        fee_rate=market.fee_rate, fee_exponent=market.fee_exponent)


def run_decide(strategy: Any, ctx: Context, rt: SlotRuntime, clock_ns=time.perf_counter_ns) -> list[Intent]:  # type: ignore[no-untyped-def]
    """Call decide(); exceptions propagate to the caller, which counts them per slot."""
    t0 = clock_ns()
    try:
        result = strategy.decide(ctx)
    finally:
        rt.decide_ms = (clock_ns() - t0) / 1e6
    if result is None:
        return []
    intents = list(result)
    for item in intents:
        if not isinstance(item, Intent):
            raise TypeError(f"decide() returned {type(item).__name__}, expected Intent")
    return intents
