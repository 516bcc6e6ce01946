"""A venue that outlives the engine: one SimExchange account, with the venue's own record of the truth.

It stands in for `nonstop sim-exchange` in-process: the test drops an engine mid-step
(an injected crash) and builds a new one on the same home and the same venue, which
kept trading time and every order and fill. It also counts what a venue would see:
how often each client id arrived, every fill it made for the account.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from nonstop.venues.base import Event, Fill, OpenOrderView, OrderRequest, OrderStatus, OrderUpdate, Resolution
from nonstop.venues.sim import SimConfig, SimExchange


class Crash(BaseException):
    """An injected kill: BaseException so no `except Exception` in the engine swallows it."""


class PersistentSimVenue:
    name = "sim"
    persistent = True

    def __init__(self, seed: int, config: SimConfig | None = None, account: str = "main") -> None:
        self.exchange = SimExchange(seed, config)
        self.identity = f"fake-sim-exchange:{seed}"
        self.account = account
        self.received: Counter[str] = Counter()  # client id -> times it reached the venue
        self.requests: dict[str, OrderRequest] = {}
        self.fills: dict[str, Fill] = {}  # every fill made for the account
        self.states: dict[str, OrderUpdate] = {}  # latest update per client id
        self.resolutions: dict[str, Resolution] = {}
        self._pending: list[Event] = []
        self.crash_rate = 0.0  # chance that a call dies (before or after its effect)
        self.rng = random.Random(seed)

    @property
    def start_time(self) -> float:
        return max(self.exchange.start_time, self.exchange.now)

    # -- the venue protocol ----------------------------------------------------------

    def start(self, now: float) -> None:
        self.exchange.advance(now)
        self._pending = self.exchange.snapshot()  # a reconnect: market data again, no trading history

    def poll(self, now: float) -> list[Event]:
        self._maybe_crash()
        events, self._pending = self._pending, []
        events.extend(self._advance(now))
        self._maybe_crash()  # after the venue moved on: what it just said is lost to the bot
        return events

    def book(self, token_id: str) -> Any:
        return self.exchange.book(token_id)

    def place(self, order: OrderRequest, now: float) -> None:
        self._maybe_crash()
        self.received[order.client_id] += 1
        self.requests.setdefault(order.client_id, order)
        self.exchange.place(order, now, self.account)
        self._maybe_crash()

    def cancel(self, client_id: str, now: float) -> None:
        self._maybe_crash()
        self.exchange.cancel(client_id, now, self.account)

    def cancel_all(self, now: float) -> None:
        self.exchange.cancel_all(now, self.account)

    def open_orders(self) -> list[OpenOrderView]:
        return self.exchange.open_orders(self.account)

    def close(self) -> None:
        self._pending = []

    # -- what recovery may ask (ReconcilingVenue) -------------------------------------

    def order_states(self, orders: list[Any]) -> dict[str, OrderUpdate | None]:
        out: dict[str, OrderUpdate | None] = {}
        for o in orders:
            cid = o.request.client_id
            if cid not in self.received:
                out[cid] = None
            else:
                out[cid] = self.states.get(cid) or OrderUpdate(cid, OrderStatus.PENDING, self.exchange.now)
        return out

    def fills_for(self, orders: list[Any]) -> list[Fill]:
        ids = {o.request.client_id for o in orders}
        return [f for f in self.fills.values() if f.client_id in ids]

    def resolution(self, slug: str) -> Resolution | None:
        return self.resolutions.get(slug)

    def positions(self) -> dict[str, float]:
        return {r.token_id: self.exchange.balance(self.account, r.token_id) for r in self.requests.values()}

    # -- the test's levers ----------------------------------------------------------

    def run_while_down(self, seconds: float) -> None:
        """The venue keeps going while the bot is dead; what it says meanwhile reaches nobody."""
        self._advance(self.exchange.now + seconds)
        self._pending = []

    def _advance(self, now: float) -> list[Event]:
        out = []
        for d in self.exchange.advance(now):
            if d.account is not None and d.account != self.account:
                continue
            ev = d.event
            if isinstance(ev, Fill):
                self.fills[ev.fill_id] = ev
            elif isinstance(ev, OrderUpdate):
                self.states[ev.client_id] = ev
            elif isinstance(ev, Resolution):
                self.resolutions[ev.slug] = ev
            out.append(ev)
        return out

    def _maybe_crash(self) -> None:
        if self.crash_rate and self.rng.random() < self.crash_rate:
            raise Crash()
