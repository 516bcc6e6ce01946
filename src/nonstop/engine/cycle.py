"""The cycle: one pass in DESIGN.md's order, each step handed to the owner of its state.

1 control · 2 reload (the safe point) · 3 market data · 4 windows · 5 decide ·
6 risk and route (the egress gate) · 7 fills (journal first) · 8 status.

`step()` is steps 1-7, the part every order of the cycle waits for; step 8 opens
`between_cycles()`, right after it: status.json reports the cycle just done, and no order
waits for its file writes (six file-system calls whose time varies with the disk).
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from nonstop.control.schema import ControlDoc, Mode
from nonstop.control.watcher import ControlWatcher
from nonstop.engine.clock import Clock
from nonstop.engine.decide import SlotRuntime, build_context, resolve, run_decide, windows_step
from nonstop.engine.gate import Exposure, Refusal, gate
from nonstop.engine.indicators import IndicatorEngine
from nonstop.engine.market_data import MarketData
from nonstop.engine.memory import MemoryStore
from nonstop.engine.slack import Collector
from nonstop.home.config import HomeConfig
from nonstop.markets import parse_slug
from nonstop.reload.registry import StrategyRegistry
from nonstop.state.journal_api import JournalLike, NullJournal
from nonstop.state.positions import DailyLoss, PositionManager
from nonstop.state.ratelimit import OrderThrottle
from nonstop.venues.base import Fill, OrderUpdate, Resolution, Venue


@dataclass
class CycleTiming:
    total_ms: float = 0.0
    strategy_ms: float = 0.0  # inside decide()
    venue_ms: float = 0.0  # inside venue.poll(): the simulator's own work, or draining a feed queue
    status_ms: float = 0.0  # building and writing the previous cycle's status.json (step 8, between cycles)

    @property
    def overhead_ms(self) -> float:
        """The engine's own time: the cycle minus strategy code and the venue's work."""
        return self.total_ms - self.strategy_ms - self.venue_ms


@dataclass
class EngineErrors:
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))
    count: int = 0

    def add(self, wall: float, where: str, message: str) -> None:
        self.count += 1
        self.recent.append({"time": wall, "where": where, "message": message[:500]})


class Engine:
    def __init__(self, config: HomeConfig, venue: Venue, clock: Clock, registry: StrategyRegistry,
                 control: ControlWatcher, status_sink: Any = None, journal: JournalLike | None = None,
                 positions: PositionManager | None = None, throttle: OrderThrottle | None = None,
                 recover: Any = None) -> None:
        self.config = config
        self.venue = venue
        self.clock = clock
        self.registry = registry
        self.control = control
        self.status_sink = status_sink
        self.journal: JournalLike = journal or NullJournal()
        self.positions = positions or PositionManager(config.engine.starting_cash)
        self.throttle = throttle or OrderThrottle(venue)  # rate-limit budgets between the engine and the venue
        self.recover = recover  # called once after venue.start(): reconciliation (state/recovery.py)
        self._swaps_journalled = -1  # the registry's swap count last written to the journal
        self.data = MarketData()
        self.indicators = IndicatorEngine()
        self.data.on_spot(self.indicators.on_spot)
        self.memory = MemoryStore()
        self.slots = [SlotRuntime(s) for s in config.slots]
        self.period = config.engine.period_s
        self.cycle = 0
        self.timing = CycleTiming()
        self.errors = EngineErrors()
        self.self_halt = ""
        self.daily = DailyLoss()
        self.pnl_curve: deque[tuple[float, float]] = deque(maxlen=500)
        self.started_at = clock.now()
        self.pid = os.getpid()
        self.stop_requested = False
        self.collector = Collector()
        self.slack_ms = 0.0  # the last between_cycles
        # Wall seconds between looks at the file boundary (control.json, strategies/): 0, every cycle.
        # A backtest sets it (backtest/runner.py): thousands of cycles a second need not stat the files each.
        self.watch_every_s = 0.0
        self._next_look = 0.0

    # -- the cycle -------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return Mode.HALTED if self.self_halt else self.control.doc.mode

    def step(self) -> None:
        t0 = time.perf_counter_ns()
        now = self.clock.now()
        self.cycle += 1
        strategy_ms = 0.0
        look = self._look_at_files()
        if look:
            self._control_step()                                                   # 1
        busy = self.positions.busy_slots()
        self.registry.reload_step(now, busy, self.memory, scan=look)               # 2
        t_venue = time.perf_counter_ns()
        events = self.venue.poll(now)
        venue_ns = time.perf_counter_ns() - t_venue
        trading = self.data.apply(events)                                          # 3
        if self.recover is not None:  # resolutions the venue's stream never brought (state/recovery.py)
            trading += self.recover.late_resolutions(self, now)
        self.throttle.drain(now)  # orders delayed by a rate limit go first, oldest first
        self._windows_step(now)                                                    # 4
        budget_s = self.config.engine.decide_budget_ms / 1e3
        for rt in self.slots:                                                      # 5 + 6
            strategy_ms += self._decide_and_route(now, rt, budget_s)
        self._fills_step(trading)                                                  # 7
        self.journal.cycle_done(self.cycle, now)
        self.timing = CycleTiming((time.perf_counter_ns() - t0) / 1e6, strategy_ms, venue_ns / 1e6,
                                  self.timing.status_ms)

    def run(self, duration_s: float, on_cycle: Callable[[], None] | None = None) -> None:
        """Cycle for `duration_s` of venue time (until a stop is asked, or a replay's data ends); `on_cycle`
        is called after each cycle's work between cycles (a backtest's progress)."""
        end = self.clock.now() + duration_s
        self.venue.start(self.clock.now())
        if self.recover is not None:  # reconcile with the venue before the first cycle, journal first
            self.recover(self, self._fills_step)
        next_at = self.clock.now()
        with self.collector.deferred():  # garbage is collected between cycles, not inside one (engine/slack.py)
            while next_at < end and not self.stop_requested and not self._venue_done():
                self.clock.wait_until(next_at)
                self.step()
                self.between_cycles()
                next_at += self.period
                if on_cycle is not None:
                    on_cycle()
        if self.status_sink is not None:
            self.status_sink.publish(self, final=True)

    def _venue_done(self) -> bool:
        """A venue that can run out (a replay at the end of its data) ends the run: nothing more can happen."""
        return bool(self.cycle and getattr(self.venue, "done", False))

    def rate_limit_status(self) -> dict[str, dict[str, float]]:
        return self.throttle.status(self.clock.now())

    def between_cycles(self) -> None:
        """After a cycle, in the slack of its period: status.json (step 8), then work no tick waits for
        (engine/slack.py)."""
        t0 = time.perf_counter_ns()
        if self.status_sink is not None:                                           # 8
            self.status_sink.publish(self)
            self.timing.status_ms = (time.perf_counter_ns() - t0) / 1e6
        self.registry.between_cycles()
        if self.registry.swaps != self._swaps_journalled:  # a reload or rollback happened: history to the journal
            self._swaps_journalled = self.registry.swaps
            self.journal.strategy_generations(self.registry.status())
        self.collector.collect_due()
        self.slack_ms = (time.perf_counter_ns() - t0) / 1e6

    def close(self) -> None:
        self.venue.close()
        self.journal.close()
        self.registry.close()

    # -- steps -----------------------------------------------------------------

    def _look_at_files(self) -> bool:
        if not self.watch_every_s:
            return True
        t = time.monotonic()
        if t < self._next_look:
            return False
        self._next_look = t + self.watch_every_s
        return True

    def _control_step(self) -> None:
        before = self.control.doc
        doc = self.control.poll(self.clock.wall())
        if doc is None:
            return
        self.journal.control_applied(doc.revision, doc.mode.value, self.clock.wall())
        if self.self_halt and doc.mode is Mode.ACTIVE and (
                before.mode is not Mode.ACTIVE or doc.requests.resume != before.requests.resume):
            # Only an explicit resume lifts the bot's own halt (a size edit must not), and only once
            # the day's loss is under the cap in force (else not one cycle of orders would go out).
            loss = self.daily.loss(self.clock.now(), self.positions.totals.realized_pnl)
            if loss < doc.sizing.max_daily_loss_usd:
                self.self_halt = ""
        if doc.mode is Mode.HALTED and before.mode is not Mode.HALTED:
            self._cancel_resting("mode HALTED", everything=True)
        elif doc.mode is Mode.PAUSED and before.mode not in (Mode.PAUSED, Mode.HALTED):
            self._cancel_resting("mode PAUSED")
        elif doc.mode is Mode.REDUCE_ONLY and before.mode is Mode.ACTIVE:
            self._cancel_resting("mode REDUCE_ONLY", buys_only=True)  # a resting buy would grow exposure
        for rt in self.slots:
            cfg = rt.config
            if (before.toggles.slot_enabled(cfg.id, cfg.asset, cfg.timeframe)
                    and not doc.toggles.slot_enabled(cfg.id, cfg.asset, cfg.timeframe)):
                self._cancel_resting(f"slot {cfg.id} switched off", slot_id=cfg.id)
        self.registry.apply_requests(doc)

    def _cancel_resting(self, why: str, *, everything: bool = False, buys_only: bool = False,
                        slot_id: str | None = None) -> None:
        now = self.clock.now()
        if everything:  # the kill switch: also what the venue holds that this run does not know of
            self.throttle.cancel_all(now)
            return
        for record in self.positions.open_orders(slot_id):
            if not (buys_only and record.request.side.value != "BUY"):
                self.throttle.cancel(record.request.client_id, now)

    def _windows_step(self, now: float) -> None:
        windows_step(self.slots, self.data, self.indicators, self.control.doc.toggles, now)  # engine/decide.py

    def _decide_and_route(self, now: float, rt: SlotRuntime, budget_s: float) -> float:
        """The slot's decide and its intents through the gate; the ms spent inside decide()."""
        cfg = rt.config
        if not rt.enabled:
            rt.last_decision = "disabled by control"
            return 0.0
        market = rt.market
        if market is None:
            rt.last_decision = "no market listed"
            return 0.0
        rt.decide_ms = 0.0
        try:
            got = rt.resolved  # the slot's instance, asked of the registry again after a swap or a control change
            if got[0] != self.registry.swaps or got[1] is not self.control.doc:
                got = resolve(rt, self.registry, self.control.doc)
            _, _, strategy, state_version, params = got
            ctx = build_context(now, rt, market, self.data, self.indicators, self.positions, self.memory,
                                params, state_version)
            intents = run_decide(strategy, ctx, rt, budget_s)  # times decide() itself: rt.decide_ms
        except Exception as exc:  # a strategy's fault must not stop the other slots
            rt.errors += 1
            rt.consecutive_errors += 1
            rt.last_decision = f"error: {type(exc).__name__}: {exc}"[:200]
            self.errors.add(self.clock.wall(), f"slot {cfg.id}", rt.last_decision)
            self.registry.decide_failed(cfg, exc)
            return rt.decide_ms
        spent = rt.decide_ms
        if rt.consecutive_errors:  # the fault policy only hears of a success that ends a run of failures
            rt.consecutive_errors = 0
            self.registry.decide_ok(cfg)
        if not intents:
            return spent
        notes = []
        for intent in intents:
            if intent.kind == "arm":
                rt.armed.setdefault(market.slug, intent.reason)
                notes.append(f"armed: {intent.reason}")
                continue
            notes.append(self._route(now, rt, ctx, intent))
            rt.unfired_in = ""  # an order may have fired the window: the position manager is asked again
        rt.last_decision = "; ".join(notes)[:300]
        return spent

    def _route(self, now: float, rt: SlotRuntime, ctx: Any, intent: Any) -> str:
        market = rt.market
        assert market is not None
        pm = self.positions
        exposure = Exposure(pm.exposure_window(market.slug), pm.exposure_asset(market.asset),
                            pm.exposure_total(), pm.totals.cash)
        # The id is taken only once the gate passes: ids count a slot's orders in a window ("fired").
        result = gate(intent, ctx, market, self.control.doc, self.mode, exposure, client_id="")
        if isinstance(result, Refusal):
            return f"refused {intent.side.value} {intent.outcome.value}: {result.reason}"
        order = replace(result, client_id=pm.next_client_id(rt.config.id, market.slug))
        self.journal.order_intent(order, now)
        pm.order_sent(order, market.asset, market.timeframe)
        self.throttle.place(order, now)
        return (f"sent {order.order_type.value} {order.side.value} {order.size:g} {order.outcome.value} "
                f"@ {order.price:g} ({intent.reason})")

    def _fills_step(self, trading: list[Any]) -> None:
        pm = self.positions
        for ev in trading:
            if not self.journal.trading_event(ev):
                continue
            if isinstance(ev, Fill):
                asset, timeframe, _ = parse_slug(ev.slug)
                pm.on_fill(ev, asset, timeframe)
            elif isinstance(ev, OrderUpdate):
                pm.on_order_update(ev)
                if ev.reason and ev.status.value == "REJECTED":  # a FAK remainder cancelled is normal
                    self.errors.add(self.clock.wall(), f"order {ev.client_id}", f"{ev.status.value}: {ev.reason}")
            elif isinstance(ev, Resolution):
                if pm.on_resolution(ev):
                    self.pnl_curve.append((ev.ts, round(pm.totals.realized_pnl, 4)))
                self.memory.end_window(ev.slug)
        self.data.forget_before(self.clock.now() - 3600)
        loss = self.daily.loss(self.clock.now(), pm.totals.realized_pnl)
        cap = self.control.doc.sizing.max_daily_loss_usd
        if loss >= cap and not self.self_halt:
            self.self_halt = (f"daily loss ${loss:.2f} reached sizing.max_daily_loss_usd ${cap:.2f}; "
                              f"raise it and `nonstop ctl resume` to trade again")
            self.errors.add(self.clock.wall(), "risk", f"HALTED: {self.self_halt}")
            self._cancel_resting("daily loss", everything=True)

