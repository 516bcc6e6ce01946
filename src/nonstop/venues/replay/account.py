"""Our account at the replay venue: the order path of `SimExchange`, over recorded books.

Order timing is the sim's: an order reaches the venue `order_latency_s` after it is sent, a
taker executes `taker_delay_s` later against the book of that instant; resting orders fill from
the recorded trade prints of each second; a market's resting orders are cancelled at its end.
Matching itself is the sim's `Matcher`, unchanged.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from nonstop.venues.base import Event, OpenOrderView, OrderRequest, OrderStatus, OrderUpdate
from nonstop.venues.replay.ladders import RecordedLadders
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.flow import Print
from nonstop.venues.sim.lifecycle import act_on_order
from nonstop.venues.sim.matching import Matcher, Out
from nonstop.venues.sim.orders import SimOrder, up_terms
from nonstop.venues.sim.windows import SimMarket

ACCOUNT = "main"
Timed = tuple[float, int, Event]


class Account:
    def __init__(self, config: SimConfig, ladders: RecordedLadders, markets: dict[str, SimMarket]) -> None:
        self.config = config
        self.ladders = ladders
        self.markets = markets
        self.matcher = Matcher(config, ladders)  # type: ignore[arg-type]  # duck-typed book source
        self.watched: dict[int, SimMarket] = {}  # market key -> market with orders of ours
        self.watched_up: dict[str, SimMarket] = {}  # its Up token -> market
        self.watched_tokens: set[str] = set()  # both tokens of every watched market
        self._prints: dict[tuple[int, int], list[Print]] = {}
        self._actions: list[tuple[float, int, str, Any]] = []
        self._orders: dict[str, SimOrder] = {}
        self._open: dict[str, SimOrder] = {}
        self._seq = 0
        self._out_seq = 0
        self._next_second: int | None = None

    @property
    def pending(self) -> bool:
        return bool(self._actions)

    # -- orders ------------------------------------------------------------------

    def place(self, order: OrderRequest, now: float) -> None:
        self._seq += 1
        side, price = up_terms(order)
        m = self.markets.get(order.slug)
        o = SimOrder(order, ACCOUNT, f"replay-order-{self._seq:09d}", m, side, price, self._seq)
        at = now + self.config.order_latency_s
        if order.client_id in self._orders:
            self._push(at, "reject", (o, f"duplicate client_id {order.client_id!r}: use a new id per order"))
            return
        self._orders[order.client_id] = o
        self._open[order.client_id] = o
        if m is not None:
            self._watch(m, now)
        self._push(at, "arrive", o)

    def cancel(self, client_id: str, now: float) -> None:
        o = self._orders.get(client_id)
        if o is not None:
            self._push(now + self.config.order_latency_s, "cancel", o)

    def cancel_all(self, now: float) -> None:
        self._push(now + self.config.order_latency_s, "cancel_all", ACCOUNT)

    def open_orders(self) -> list[OpenOrderView]:
        for cid in [c for c, o in self._open.items() if o.status.is_final]:
            del self._open[cid]
        return [o.view() for o in self._open.values()]

    # -- the clock -------------------------------------------------------------------

    def add_print(self, m: SimMarket, second: int, p: Print) -> None:
        self._prints.setdefault((m.key, second), []).append(p)

    def advance(self, now: float) -> list[Timed]:
        """Play the seconds of watched markets and the order actions due up to `now`, in time order."""
        out: list[Timed] = []
        while True:
            second = self._next_second if self.watched and self._next_second is not None else math.inf
            action = self._actions[0][0] if self._actions else math.inf
            if min(second, action) > now:
                break
            if second <= action:  # the sim plays a second before actions at the same time
                self._play_second(int(second), out)
                self._next_second = int(second) + 1
            else:
                at, _, kind, payload = heapq.heappop(self._actions)
                self._act(at, kind, payload, out)
        if not self.watched or self._next_second is None:
            self._next_second = math.floor(now) + 1
        return out

    def forget(self, m: SimMarket) -> None:
        """The market resolved: drop what was kept for it."""
        self.watched.pop(m.key, None)
        self.watched_up.pop(m.info.up_token, None)
        self.watched_tokens.difference_update((m.info.up_token, m.info.down_token))
        self.ladders.unwatch(m)
        for key in [k for k in self._prints if k[0] == m.key]:
            del self._prints[key]

    # -- internals -----------------------------------------------------------------

    def _watch(self, m: SimMarket, now: float) -> None:
        if m.key not in self.watched:
            self.watched[m.key] = m
            self.watched_up[m.info.up_token] = m
            self.watched_tokens.update((m.info.up_token, m.info.down_token))
            self.ladders.watch(m)

    def _play_second(self, k: int, out: list[Timed]) -> None:
        for m in list(self.watched.values()):
            prints = self._prints.pop((m.key, k), [])
            if m.closed:
                continue
            if k >= m.end:
                m.closed = True
                self._deliver(k, self.matcher.close_market(m, k), out)
            elif k >= m.start:
                self._deliver(k, self.matcher.on_second(m, k, prints), out)

    def _act(self, at: float, kind: str, payload: Any, out: list[Timed]) -> None:
        events = act_on_order(self.matcher, kind, payload, at, _tick_of, self._push, self.config.taker_delay_s)
        if events is not None:
            self._deliver(at, events, out)
        elif kind == "reject":
            o, reason = payload
            self._deliver(at, [(ACCOUNT, OrderUpdate(o.req.client_id, OrderStatus.REJECTED, at, reason,
                                                     o.venue_id))], out)

    def _deliver(self, at: float, events: Out, out: list[Timed]) -> None:
        for _, ev in events:
            self._out_seq += 1
            out.append((at, self._out_seq, ev))

    def _push(self, at: float, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._actions, (round(at, 6), self._seq, kind, payload))


def _tick_of(o: SimOrder, at: float) -> int:
    """The recorded market's tick in thousandths (the recording carries it in MarketListed)."""
    return 1 if o.market is not None and o.market.info.tick_size < 0.005 else 10
