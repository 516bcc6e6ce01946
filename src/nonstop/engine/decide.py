"""Step 5: ask each enabled slot's strategy for intents, through a read-only Context.

A strategy that raises is caught per slot, counted and reported; the others go on. A decide
that overruns its time budget is stopped by a watchdog (see `run_decide`).
"""

from __future__ import annotations

import atexit
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


_NO_POSITION = PositionView()


def build_context(now: float, rt: SlotRuntime, market: MarketInfo, data: MarketData, ind: IndicatorEngine,
                  positions: PositionManager, memory: MemoryStore, params: dict[str, Any],
                  state_version: int) -> Context:
    cfg = rt.config
    pos = positions.position(cfg.id, market.slug)
    view = PositionView(pos.up_shares, pos.down_shares, pos.cost, len(positions.open_orders(cfg.id))) if pos \
        else _NO_POSITION
    window = WindowView(market.slug, market.start, market.end, market.end - now, market.price_to_beat,
                        market.slug in rt.armed, positions.fired(cfg.id, market.slug))
    oracle = data.oracle_last(cfg.asset)
    return Context(
        now=now, slot_id=cfg.id, asset=cfg.asset, timeframe=cfg.timeframe, window=window,
        spot=data.spot.get(cfg.asset), oracle=oracle, twap=data.twap(cfg.asset, now, market.twap_lookback_s),
        up_book=data.books.get(market.up_token), down_book=data.books.get(market.down_token), position=view,
        indicators=ind.values(cfg.asset, cfg.timeframe, market.start, oracle),
        memory=memory.cell(cfg.id, market.slug, state_version).data, params=MappingProxyType(params),
        fee_rate=market.fee_rate, fee_exponent=market.fee_exponent)


class DecideOverrun(Exception):
    """decide() ran past its time budget and the watchdog interrupted it."""


class _Alarm(BaseException):
    """Raised inside the strategy by the watchdog; a BaseException so `except Exception` there cannot eat it."""


_MAIN_THREAD = threading.main_thread().ident


class _Watchdog:
    """A CPU-time alarm (ITIMER_PROF, SIGPROF: nobody else in the bot uses them) shared by
    consecutive decides. Setting an itimer is a system call (several µs in a VM), so a decide only
    writes its deadline; the timer is armed when none is pending, and when it fires for an earlier
    decide while a later one runs, the handler re-arms it for what is left of that one's budget.
    CPU time, not wall time, so that a decide descheduled on a busy machine is not blamed; a
    decide that loops burns CPU and is stopped."""

    def __init__(self) -> None:
        self.armed = False  # a decide is running
        self.deadline = 0.0  # perf_counter time it must be done by
        self.pending = False  # our timer is set
        self.starts = 0
        self.handler = self.on_alarm  # one bound method, so `is` can recognise it

    def start(self, budget_s: float) -> None:
        self.deadline = time.perf_counter() + budget_s
        self.armed = True
        self.starts += 1
        if self.pending and not self.starts % 64 and signal.getitimer(signal.ITIMER_PROF)[0] == 0:
            self.pending = False  # someone cancelled our timer: arm it again (checked now and then, cheaply)
        if not self.pending:
            if signal.getsignal(signal.SIGPROF) is not self.handler:
                signal.signal(signal.SIGPROF, self.handler)
                atexit.register(self.stop)
            self.pending = True
            signal.setitimer(signal.ITIMER_PROF, budget_s)

    def on_alarm(self, signum: int, frame: Any) -> None:
        if not self.armed:
            self.pending = False
            return
        left = self.deadline - time.perf_counter()
        if left <= 0:
            self.pending = False
            raise _Alarm()
        signal.setitimer(signal.ITIMER_PROF, left)  # it fired for an earlier decide

    def stop(self) -> None:
        """At exit: an alarm still pending must not reach a process whose handlers are gone."""
        if self.pending and threading.get_ident() == _MAIN_THREAD:
            self.pending = False
            signal.setitimer(signal.ITIMER_PROF, 0)


_watchdog = _Watchdog()


def run_decide(strategy: Any, ctx: Context, rt: SlotRuntime, budget_s: float | None = None,
               clock_ns=time.perf_counter_ns) -> list[Intent]:  # type: ignore[no-untyped-def]
    """Call decide() under a time budget; exceptions propagate to the caller, which counts them per slot.

    A decide still running after `budget_s` gets an exception raised inside it (a signal), so
    one slot stalls the cycle for at most its budget; the cost per call is setting a deadline
    (see `_Watchdog`). Limits: only in the main thread (where Python runs signal handlers); the
    alarm counts CPU time, so a decide blocked in a system call (a sleep) is not interrupted; a
    strategy stuck inside one long C call holding the GIL is interrupted only when it returns.
    """
    watch = bool(budget_s) and threading.get_ident() == _MAIN_THREAD
    t0 = clock_ns()
    try:  # the alarm may land anywhere in here, even just after decide returned: all of it converts
        try:
            if watch:
                _watchdog.start(budget_s)  # type: ignore[arg-type]
            result = strategy.decide(ctx)
        finally:
            _watchdog.armed = False
    except _Alarm as alarm:
        overrun = DecideOverrun(f"decide() overran its {budget_s * 1e3:g} ms budget and was stopped")  # type: ignore[operator]
        raise overrun.with_traceback(alarm.__traceback__) from None
    finally:
        rt.decide_ms = (clock_ns() - t0) / 1e6
    if result is None:
        return []
    intents = list(result)
    for item in intents:
        if not isinstance(item, Intent):
            raise TypeError(f"decide() returned {type(item).__name__}, expected Intent")
    return intents
