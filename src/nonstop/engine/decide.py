"""Step 5: ask each enabled slot's strategy for intents, through a read-only Context.

A strategy that raises is caught per slot, counted and reported; the others go on. A decide
that overruns its time budget is stopped by a watchdog (see `run_decide`).
"""

from __future__ import annotations

import signal
import threading
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


class DecideOverrun(Exception):
    """decide() ran past its time budget and the watchdog interrupted it."""


class _Alarm(BaseException):
    """Raised inside the strategy by SIGALRM; a BaseException so `except Exception` in a strategy cannot eat it."""


_MAIN_THREAD = threading.main_thread().ident
_armed = False
_chained: Any = None  # the SIGALRM handler that was there before ours (pytest-timeout, say)


def _on_alarm(signum: int, frame: Any) -> None:
    if _armed:
        raise _Alarm()
    if callable(_chained):
        _chained(signum, frame)


def _arm(budget_s: float) -> tuple[float, float]:
    """Start the watchdog; returns the itimer it displaced, to be put back."""
    global _armed, _chained
    handler = signal.getsignal(signal.SIGALRM)
    if handler is not _on_alarm:
        _chained = handler
        signal.signal(signal.SIGALRM, _on_alarm)
    _armed = True
    return signal.setitimer(signal.ITIMER_REAL, budget_s)


def _disarm(displaced: tuple[float, float], spent_s: float) -> None:
    delay, interval = displaced
    signal.setitimer(signal.ITIMER_REAL, max(delay - spent_s, 1e-6) if delay > 0 else 0.0, interval)


def run_decide(strategy: Any, ctx: Context, rt: SlotRuntime, budget_s: float | None = None,
               clock_ns=time.perf_counter_ns) -> list[Intent]:  # type: ignore[no-untyped-def]
    """Call decide() under a time budget; exceptions propagate to the caller, which counts them per slot.

    The watchdog is a one-shot ITIMER_REAL around the call (two setitimer calls, a few µs): a
    decide still running after `budget_s` gets an exception raised inside it, so one slot can
    stall the cycle for at most its budget. Limits: only in the main thread (where Python runs
    signal handlers), and a strategy stuck inside one long C call holding the GIL is interrupted
    only when that call returns.
    """
    global _armed
    watch = bool(budget_s) and threading.get_ident() == _MAIN_THREAD
    displaced = (0.0, 0.0)
    t0 = clock_ns()
    try:  # the alarm may land anywhere in here, even just after decide returned: all of it converts
        try:
            if watch:
                displaced = _arm(budget_s)  # type: ignore[arg-type]
            result = strategy.decide(ctx)
        finally:
            _armed = False
    except _Alarm as alarm:
        overrun = DecideOverrun(f"decide() overran its {budget_s * 1e3:g} ms budget and was stopped")  # type: ignore[operator]
        raise overrun.with_traceback(alarm.__traceback__) from None
    finally:
        spent = clock_ns() - t0
        if watch:
            _disarm(displaced, spent / 1e9)
        rt.decide_ms = spent / 1e6
    if result is None:
        return []
    intents = list(result)
    for item in intents:
        if not isinstance(item, Intent):
            raise TypeError(f"decide() returned {type(item).__name__}, expected Intent")
    return intents
