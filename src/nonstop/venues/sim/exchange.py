"""SimExchange: the whole simulated market (prices, oracle, books, flow, matching) on an explicit clock.

Nothing here reads the wall clock. `advance(now)` plays every second, oracle delivery and order
action due up to venue time `now`, in time order, and returns what each subscriber would have
received. Public market data carries account None; order updates and fills carry their account,
so one exchange can serve several clients (the in-process SimVenue, or an HTTP fake).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace
from typing import Any, NamedTuple

from nonstop.markets import MarketInfo
from nonstop.venues.base import (Book, BookUpdate, Event, MarketListed, OpenOrderView, OracleTick, OrderRequest,
                                 OrderStatus, OrderUpdate, Resolution, SpotTick, TradePrint)
from nonstop.venues.sim.book import BookMaker, Quote, to_books
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.flow import FlowModel, prints
from nonstop.venues.sim.lifecycle import act_on_order
from nonstop.venues.sim.matching import Matcher, Out
from nonstop.venues.sim.oracle import Oracle
from nonstop.venues.sim.orders import SimOrder, up_terms
from nonstop.venues.sim.prices import PricePaths
from nonstop.venues.sim.rand import NoiseTable
from nonstop.venues.sim.windows import SimMarket, due_windows, make_market

_SECOND, _ORACLE, _ACTION = 0, 1, 2  # tie-break at equal times: market second, oracle, orders


class Delivered(NamedTuple):
    """One event as a subscriber receives it (a tuple: thousands are made per venue minute)."""

    at: float  # venue time of receipt (OracleTick and Resolution carry an earlier ts)
    event: Event
    account: str | None  # None: public market data


class SimExchange:
    """The market for every account. Drive it with `advance(now)`; trade with `place(order, now, account)`,
    `cancel`, `cancel_all`; read `book(token, at)`, `markets()`, `open_orders(account)`, `balance`, `volume`.
    `snapshot()` is what a client connecting at the current time should be sent first."""

    def __init__(self, seed: int, config: SimConfig | None = None) -> None:
        cfg = config or SimConfig()
        self.seed, self.config = seed, cfg
        self.start_time = float(cfg.start_time)
        self.paths = PricePaths(seed, cfg)
        self.oracle = Oracle(seed, cfg, self.paths)
        self.books = BookMaker(cfg, self.paths, NoiseTable(seed))
        self.flow = FlowModel(seed, cfg)
        self.matcher = Matcher(cfg, self.books)
        self.now = float(cfg.start_time) - 1.0  # everything at or before `now` has been played
        self._next_second = cfg.start_time
        self._oracle_next = {a: self._first_undelivered(a, self.now) for a in cfg.assets}
        self._oracle_due = {a: self.oracle.delivered_at(a, k) for a, k in self._oracle_next.items()}
        self._markets: dict[str, SimMarket] = {}
        self._by_token: dict[str, SimMarket] = {}
        self._actions: list[tuple[float, int, str, Any]] = []
        self._seq = 0
        self._order_count = 0
        self._orders: dict[tuple[str, str], SimOrder] = {}
        self._open: dict[str, dict[str, SimOrder]] = {}
        self._emitted: dict[str, tuple[Any, Any]] = {}
        self._book_cache: dict[int, tuple[int, int, Book, Book]] = {}
        self._book_sig: dict[int, tuple[Any, ...]] = {}
        self.volume: dict[str, float] = {}  # USDC notional traded per slug (background flow)

    # -- market data -------------------------------------------------------------

    def markets(self) -> list[MarketInfo]:
        """Listed markets that have not closed yet."""
        return [m.info for m in self._markets.values() if not m.closed]

    def market(self, slug: str) -> MarketInfo | None:
        m = self._markets.get(slug)
        return m.info if m else None

    def book(self, token_id: str, at: float | None = None) -> Book | None:
        """A token's public book at `at` (default: the current venue time); None once its market closed."""
        m = self._by_token.get(token_id)
        if m is None or m.closed:
            return None
        up, down = self._books_at(m, self.now if at is None else at)
        return up if token_id == m.info.up_token else down

    def _books_at(self, m: SimMarket, t: float, q: Quote | None = None) -> tuple[Book, Book]:
        b, v = self.books.bucket(t), self.matcher.version.get(m.key, 0)
        hit = self._book_cache.get(m.key)
        if hit is not None and hit[0] == b and hit[1] == v and hit[2].ts == t:
            return hit[2], hit[3]
        if self.matcher.touched(m, t):
            bids, asks = self.matcher.display(m, t)
            up, down = to_books(m, bids, asks, t)
        else:
            up, down = self.books.books(m, t, q)
        self._book_cache[m.key] = (b, v, up, down)
        return up, down

    def snapshot(self) -> list[Event]:
        """The state a new subscriber needs at the current time: listings, spot, the last minute of oracle, books."""
        now, out = self.now, list[Event]()
        out += [MarketListed(m.info) for m in self._markets.values() if not m.closed]
        out += [SpotTick(a, self.paths.price(a, math.floor(now)), float(math.floor(now))) for a in self.config.assets]
        lookback = self.config.twap_lookback_s
        for a in self.config.assets:
            ks = [k for k in range(math.floor(now) - lookback - 5, math.floor(now) + 1)
                  if self.oracle.delivered_at(a, k) <= now][-lookback:]
            out += [OracleTick(a, self.oracle.value(a, k), float(k)) for k in ks]
        for m in self._markets.values():
            if not m.closed:
                out += [BookUpdate(b) for b in self._books_at(m, now)]
        return out

    # -- orders ------------------------------------------------------------------

    def place(self, order: OrderRequest, now: float, account: str = "main") -> str:
        """Submit; it reaches the venue after `order_latency_s`. Returns the venue order id."""
        self._seq += 1
        self._order_count += 1
        side, price = up_terms(order)
        o = SimOrder(order, account, f"sim-order-{self._order_count:09d}", self._markets.get(order.slug), side, price,
                     self._seq)
        at = max(now, self.now) + self.config.order_latency_s
        if (account, order.client_id) in self._orders:
            self._push(at, "reject", (o, f"duplicate client_id {order.client_id!r}: use a new id per order"))
            return o.venue_id
        self._orders[(account, order.client_id)] = o
        self._open.setdefault(account, {})[order.client_id] = o
        self._push(at, "arrive", o)
        return o.venue_id

    def cancel(self, client_id: str, now: float, account: str = "main") -> None:
        o = self._orders.get((account, client_id))
        if o is not None:
            self._push(max(now, self.now) + self.config.order_latency_s, "cancel", o)

    def cancel_all(self, now: float, account: str = "main") -> None:
        self._push(max(now, self.now) + self.config.order_latency_s, "cancel_all", account)

    def open_orders(self, account: str = "main") -> list[OpenOrderView]:
        book = self._open.get(account, {})
        for cid in [c for c, o in book.items() if o.status.is_final]:
            del book[cid]
        return [o.view() for o in book.values()]

    def balance(self, account: str, token_id: str) -> float:
        return self.matcher.balance(account, token_id)

    def _push(self, at: float, kind: str, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._actions, (round(at, 6), self._seq, kind, payload))

    # -- the clock -------------------------------------------------------------------

    def advance(self, now: float, books: bool = True) -> list[Delivered]:
        """Play everything due in (previous now, now], in time order, then publish changed books at `now`.

        books=False skips the BookUpdate step (a recorder or benchmark that reads `book()` itself);
        it changes nothing else.
        """
        out: list[Delivered] = []
        if now <= self.now:
            return out
        due = self._oracle_due
        while True:
            cand = (float(self._next_second), _SECOND, "")
            for asset, at in due.items():
                if at < cand[0] or (at == cand[0] and (_ORACLE, asset) < cand[1:]):
                    cand = (at, _ORACLE, asset)
            if self._actions and (self._actions[0][0], _ACTION, "") < cand:
                cand = (self._actions[0][0], _ACTION, "")
            if cand[0] > now:
                break
            if cand[1] == _SECOND:
                self._play_second(self._next_second, out)
                self._next_second += 1
            elif cand[1] == _ORACLE:
                self._deliver_oracle(cand[2], cand[0], out)
            else:
                at, _, kind, payload = heapq.heappop(self._actions)
                self._act(at, kind, payload, out)
        self.now = now
        if books:
            self._publish_books(now, out)
        return out

    def _first_undelivered(self, asset: str, t: float) -> int:
        k = math.floor(t) - 10
        while self.oracle.delivered_at(asset, k) <= t:
            k += 1
        return k

    def _play_second(self, k: int, out: list[Delivered]) -> None:
        cfg = self.config
        if k == self.config.start_time or not self._markets or (k + cfg.list_ahead_s) % 300 == 0:
            for asset, tf, start in due_windows(cfg, k):
                self._list(asset, tf, start, k, out)
        for a in cfg.assets:
            out.append(Delivered(float(k), SpotTick(a, self.paths.price(a, k), float(k)), None))
        for m in list(self._markets.values()):
            if m.closed:
                continue
            if k >= m.end:
                m.closed = True
                self._deliver(float(k), self.matcher.close_market(m, k), out)
                self.flow.forget(m)
                self._push(m.end + cfg.publish_delay_s, "resolve", m)
            elif k >= m.start:
                self._trade_second(m, k, out)
                if self.books.update_tick(m, k):
                    m.info = replace(m.info, tick_size=0.001 if m.fine_tick else 0.01)
                    out.append(Delivered(float(k), MarketListed(m.info), None))

    def _trade_second(self, m: SimMarket, k: int, out: list[Delivered]) -> None:
        q = self.books.quote(m, k)
        usd = self.flow.usd(m, k)
        informed = None
        if usd[4] > 0:
            # Informed takers know where the exchange price goes next, hence where fair value goes.
            lag = self.config.mm_lag_s
            now_x = self.paths.price_at(m.asset, k - lag)
            ahead = self.paths.price_at(m.asset, k - lag + self.config.informed_horizon_s)
            informed = None if ahead == now_x else ahead > now_x
        ps = prints(m, usd, q.bid, q.ask, informed)
        for p in ps:
            out.append(Delivered(float(k), TradePrint(p.token_id, p.price / 1000.0, round(p.shares, 2), p.taker_side,
                                               float(k)), None))
            self.volume[m.slug] = self.volume.get(m.slug, 0.0) + p.usd
        self._deliver(float(k), self.matcher.on_second(m, k, ps), out)

    def _list(self, asset: str, tf: str, start: int, k: int, out: list[Delivered]) -> None:
        m = make_market(self.seed, self.config, asset, tf, start, 0.01)
        if m.slug in self._markets:
            return
        if self.oracle.delivered_at(asset, start) <= k:
            m.info = m.info.with_price_to_beat(self.oracle.price_to_beat(asset, start))
        self._markets[m.slug] = m
        self._by_token[m.info.up_token] = m
        self._by_token[m.info.down_token] = m
        out.append(Delivered(float(k), MarketListed(m.info), None))

    def _deliver_oracle(self, asset: str, at: float, out: list[Delivered]) -> None:
        k = self._oracle_next[asset]
        self._oracle_next[asset] = k + 1
        self._oracle_due[asset] = self.oracle.delivered_at(asset, k + 1)
        out.append(Delivered(at, OracleTick(asset, self.oracle.value(asset, k), float(k)), None))
        if k % 300:
            return  # windows only start on multiples of 300 s
        for m in self._markets.values():
            if m.asset == asset and m.start == k and m.info.price_to_beat is None:
                m.info = m.info.with_price_to_beat(self.oracle.price_to_beat(asset, k))
                out.append(Delivered(at, MarketListed(m.info), None))

    def _act(self, at: float, kind: str, payload: Any, out: list[Delivered]) -> None:
        events = act_on_order(self.matcher, kind, payload, at, self._tick_of, self._push, self.config.taker_delay_s)
        if events is not None:
            self._deliver(at, events, out)
        elif kind == "reject":
            o, reason = payload
            out.append(Delivered(at, OrderUpdate(o.req.client_id, OrderStatus.REJECTED, at, reason, o.venue_id),
                                 o.account))
        elif kind == "resolve":
            m = payload
            r = self.oracle.resolve(m.asset, m.start, m.end)
            out.append(Delivered(at, Resolution(m.slug, r.winner, float(m.end), r.final_value, r.price_to_beat), None))
            del self._markets[m.slug]
            self._by_token.pop(m.info.up_token, None)
            self._by_token.pop(m.info.down_token, None)
            self._book_cache.pop(m.key, None)
            self._book_sig.pop(m.key, None)
            self._emitted.pop(m.info.up_token, None)
            self._emitted.pop(m.info.down_token, None)

    def _tick_of(self, o: SimOrder, at: float) -> int:
        return self.books.quote(o.market, at).tick if o.market is not None else 10

    @staticmethod
    def _deliver(at: float, events: Out, out: list[Delivered]) -> None:
        for acct, e in events:
            out.append(Delivered(at, e, acct))

    def _publish_books(self, now: float, out: list[Delivered]) -> None:
        for m in self._markets.values():
            if m.closed:
                continue
            q = self.books.quote(m, now)
            sig = (q.bid, q.ask, q.tick, q.depth, q.bid_thin, q.ask_thin, self.books.size_epoch(m, now),
                   self.matcher.version.get(m.key, 0))
            if self._book_sig.get(m.key) == sig and not self.matcher.touched(m, now):
                continue  # nothing that shapes this book changed (taken liquidity refills with time)
            self._book_sig[m.key] = sig
            up, down = self._books_at(m, now, q)
            for b in (up, down):
                last = self._emitted.get(b.token_id)
                if last is None or not (last[0] is b.bids or last[0] == b.bids) or \
                        not (last[1] is b.asks or last[1] == b.asks):
                    self._emitted[b.token_id] = (b.bids, b.asks)
                    out.append(Delivered(now, BookUpdate(b), None))
