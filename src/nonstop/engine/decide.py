"""Step 5: ask each enabled slot's strategy for intents, through a read-only Context.

A strategy that raises is caught per slot, counted and reported; the others go on. A decide
that overruns its time budget is stopped by a watchdog (see `run_decide`).
"""

from __future__ import annotations

import atexit
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from nonstop.engine.context import LazyContext, build_context, settle
from nonstop.engine.indicators import IndicatorEngine
from nonstop.engine.market_data import MarketData
from nonstop.home.config import SlotConfig
from nonstop.markets import TIMEFRAMES, MarketInfo, window_start
from nonstop.strategy import Context, Intent

__all__ = ["SlotRuntime", "slot_params", "resolve", "windows_step", "build_context", "run_decide", "DecideOverrun",
           "LazyContext"]


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
    # The slot's parameters (nonstop.toml's under the control's slot_params) and their read-only
    # view, remade only when the control document in force changes (see `slot_params`).
    params_of: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    params_view: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    toggles_of: Any = None  # the control toggles `enabled` was read from
    ctx: Any = None  # the Context of its last decide (engine/context.py may refill it in place)
    noted: Any = None  # the market whose window's opening spot is known to be noted
    # What `market` and `enabled` were looked up under: the market data's listings count, the control's
    # toggles and the windows' starts (see `windows_step`); the same stamp, the same answer.
    stamp: tuple[Any, ...] = ()
    # The strategy instance, state version and params resolved under (registry swaps, control doc):
    # neither changes while both stay (see `resolve`). Never kept across a swap.
    resolved: tuple[Any, ...] = (-1, None, None, 0, None)
    fired_in: str = ""  # a window this slot has fired in (fired stays fired: order counts only grow)
    # A window the position manager said this slot had not fired in. During a run only the slot's own
    # routed orders can change that (state/positions.py `next_client_id`), so the engine forgets it then.
    unfired_in: str = ""
    memory_seen: int = -1  # the memory store's `changes` when `ctx.memory` was looked up


def slot_params(rt: SlotRuntime, control: Any) -> dict[str, Any]:
    """The slot's parameters under `control` (a ControlDoc, immutable: the same object, the same answer)."""
    if rt.params_of is not control:
        rt.params = {**rt.config.params, **control.slot_params.get(rt.config.id, {})}
        rt.params_view = MappingProxyType(rt.params)
        rt.params_of = control
    return rt.params


def resolve(rt: SlotRuntime, registry: Any, control: Any) -> tuple[Any, ...]:
    """(swaps, control, strategy instance, state version, params) for the slot, through the registry.

    The registry gives the same instance while no swap or rollback happened (its `swaps` count) and
    the params object is the same (the same control document): the engine asks it again only when
    one of them changed, and never holds an instance across a swap (DESIGN.md, "Resolve, don't cache")."""
    params = slot_params(rt, control)
    swaps = registry.swaps
    strategy = registry.instance(rt.config, params)
    rt.resolved = (swaps, control, strategy, registry.state_version(rt.config.module), params)
    return rt.resolved


def windows_step(slots: list[SlotRuntime], data: MarketData, ind: IndicatorEngine, toggles: Any, now: float) -> None:
    """Step 4: each slot's current market, rebuilt from market data and the clock; a window left
    behind drops its armed mark and its indicator scope. Whether control lets the slot decide is
    re-read from the toggles in force.

    Both are looked up again only when something they come from changed: the market data's
    listings, a window's start, the control's toggles (the `stamp`). Every call brings every
    slot to the same stamp, so the first slot's tells whether anything changed: most cycles, nothing."""
    stamp = (data.listings, toggles, *[window_start(now, tf) for tf in TIMEFRAMES])
    if not slots or slots[0].stamp == stamp:
        return
    current = data.current_market
    for rt in slots:
        cfg = rt.config
        rt.stamp = stamp
        market = current(cfg.asset, cfg.timeframe, now)
        old = rt.market
        if old is not None and old is not market and (market is None or market.slug != old.slug):
            rt.armed.pop(old.slug, None)
            ind.end_window(cfg.asset, cfg.timeframe, old.start)
        rt.market = market
        if rt.toggles_of is not toggles:
            rt.enabled = toggles.slot_enabled(cfg.id, cfg.asset, cfg.timeframe)
            rt.toggles_of = toggles


class DecideOverrun(Exception):
    """decide() ran past its time budget and the watchdog interrupted it."""


class _Alarm(BaseException):
    """Raised inside the strategy by the watchdog; a BaseException so `except Exception` there cannot eat it."""


_MAIN_THREAD = threading.main_thread().ident


class _Watchdog:
    """A CPU-time alarm (ITIMER_PROF, SIGPROF: nobody else in the bot uses them) shared by
    consecutive decides. Setting an itimer is a system call (several µs in a VM), so a decide only
    writes its deadline; the timer is armed when none is pending (in practice once per cycle's
    decide phase, or less), and when it fires for an earlier decide while a later one runs, the
    handler re-arms it for what is left of that one's budget. CPU time, not wall time, so that a
    decide descheduled on a busy machine is not blamed; a decide that loops burns CPU and is stopped."""

    def __init__(self) -> None:
        self.deadline_ns = 0  # perf_counter_ns time the running decide must be done by; 0: none runs
        self.pending = False  # our timer is set
        self.starts = 0
        self.budget_s, self.budget_ns = 0.0, 0  # the last budget and its nanoseconds
        self.handler = self.on_alarm  # one bound method, so `is` can recognise it

    def arm(self, budget_s: float) -> None:
        """Set our timer (a system call); also when someone else cancelled it (checked now and then)."""
        if signal.getsignal(signal.SIGPROF) is not self.handler:
            signal.signal(signal.SIGPROF, self.handler)
            atexit.register(self.stop)
        self.pending = True
        signal.setitimer(signal.ITIMER_PROF, budget_s)

    def on_alarm(self, signum: int, frame: Any) -> None:
        if not self.deadline_ns:
            self.pending = False
            return
        left = self.deadline_ns - time.perf_counter_ns()
        if left <= 0:
            self.pending = False
            raise _Alarm()
        signal.setitimer(signal.ITIMER_PROF, left / 1e9)  # it fired for an earlier decide

    def stop(self) -> None:
        """At exit: an alarm still pending must not reach a process whose handlers are gone."""
        if self.pending and threading.get_ident() == _MAIN_THREAD:
            self.pending = False
            signal.setitimer(signal.ITIMER_PROF, 0)


_watchdog = _Watchdog()
_get_ident = threading.get_ident
_clock_ns = time.perf_counter_ns
_refs = sys.getrefcount


def run_decide(strategy: Any, ctx: Context, rt: SlotRuntime, budget_s: float | None = None) -> list[Intent]:
    """Call decide() under a time budget; exceptions propagate to the caller, which counts them per slot.

    A decide still running after `budget_s` gets an exception raised inside it (a signal), so
    one slot stalls the cycle for at most its budget; the cost per call is writing a deadline
    (see `_Watchdog`). Limits: only in the main thread (where Python runs signal handlers); the
    alarm counts CPU time, so a decide blocked in a system call (a sleep) is not interrupted; a
    strategy stuck inside one long C call holding the GIL is interrupted only when it returns.
    A LazyContext is settled before the intents go to the gate (engine/context.py).
    """
    wd = _watchdog
    held = _refs(ctx)
    t0 = _clock_ns()
    try:  # the alarm may land anywhere in here, even just after decide returned: all of it converts
        try:
            if budget_s and _get_ident() == _MAIN_THREAD:
                if budget_s != wd.budget_s:
                    wd.budget_s, wd.budget_ns = budget_s, int(budget_s * 1e9)
                wd.deadline_ns = t0 + wd.budget_ns
                wd.starts += 1
                if not wd.pending or (not wd.starts & 63 and signal.getitimer(signal.ITIMER_PROF)[0] == 0):
                    wd.arm(budget_s)
            result = strategy.decide(ctx)
        finally:
            wd.deadline_ns = 0
    except _Alarm as alarm:
        overrun = DecideOverrun(f"decide() overran its {budget_s * 1e3:g} ms budget and was stopped")  # type: ignore[operator]
        raise overrun.with_traceback(alarm.__traceback__) from None
    finally:
        rt.decide_ms = (_clock_ns() - t0) / 1e6
    if _refs(ctx) > held:  # the strategy kept its Context: what it reads later must be this cycle's
        settle(ctx)
    if result is None or (type(result) is list and not result):  # the commonest answer: nothing to do
        return []
    intents = list(result)
    if not intents:
        return intents
    for item in intents:
        if not isinstance(item, Intent):
            raise TypeError(f"decide() returned {type(item).__name__}, expected Intent")
    settle(ctx)  # a LazyContext's fields are all filled before the gate routes the intents
    return intents
