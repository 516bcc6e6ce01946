"""SimVenue: the in-process Venue the engine drives; a thin adapter over one account of SimExchange."""

from __future__ import annotations

from nonstop.venues.base import Book, Event, OpenOrderView, OrderRequest
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.exchange import SimExchange


class SimVenue:
    """Deterministic simulated Polymarket up/down venue. Venue time starts at `start_time`."""

    name = "sim"

    def __init__(self, seed: int, config: SimConfig | None = None, account: str = "main") -> None:
        self.exchange = SimExchange(seed, config)
        self.config = self.exchange.config
        self.seed = seed
        self.account = account
        self.start_time: float = self.exchange.start_time
        self._pending: list[Event] = []
        self._started = False

    def start(self, now: float) -> None:
        """Warm up to `now`: history before it is not replayed, only a snapshot of the current state."""
        if now < self.start_time:
            raise ValueError(f"venue time {now} is before the simulator's start {self.start_time}; "
                             f"start at or after it (SimConfig.start_time)")
        self.exchange.advance(now, books=False)
        self._pending = self.exchange.snapshot()
        self._started = True

    def poll(self, now: float) -> list[Event]:
        if not self._started:
            self.start(self.start_time)
        events, self._pending = self._pending, []
        mine = self.account
        events.extend(d.event for d in self.exchange.advance(now) if d.account is None or d.account == mine)
        return events

    def book(self, token_id: str) -> Book | None:
        return self.exchange.book(token_id)

    def place(self, order: OrderRequest, now: float) -> None:
        self.exchange.place(order, now, self.account)

    def cancel(self, client_id: str, now: float) -> None:
        self.exchange.cancel(client_id, now, self.account)

    def cancel_all(self, now: float) -> None:
        self.exchange.cancel_all(now, self.account)

    def open_orders(self) -> list[OpenOrderView]:
        return self.exchange.open_orders(self.account)

    def close(self) -> None:
        self._pending = []
