"""PolymarketVenue: the real venue behind the same Venue interface as the sim.

Paper by default: real market data, orders filled locally against the real books (paper.py).
With `--live` and credentials: orders signed and sent through polymarket-client (clob.py),
their fate followed on the user channel (tracker.py). Network I/O runs on the worker thread;
`poll(now)` only drains what arrived. Also a ReconcilingVenue for `nonstop.state.recovery`.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from nonstop.engine.clock import RealClock
from nonstop.markets import MarketInfo
from nonstop.venues.base import (Book, BookUpdate, Event, Fill, MarketListed, OpenOrderView, OrderRequest,
                                 OrderUpdate, Resolution)
from nonstop.venues.polymarket import recon
from nonstop.venues.polymarket.binance import BinanceFallback
from nonstop.venues.polymarket.clob import LiveClob
from nonstop.venues.polymarket.feed import MarketFeed
from nonstop.venues.polymarket.http import RestReader
from nonstop.venues.polymarket.paper import PaperBroker
from nonstop.venues.polymarket.ratelimit import Limiter
from nonstop.venues.polymarket.settings import Credentials, PolymarketSettings
from nonstop.venues.polymarket.store import OrderStore
from nonstop.venues.polymarket.tracker import Tracker
from nonstop.venues.polymarket.worker import Worker

_CALL_TIMEOUT_S = 60.0
_SHOW_FIRST_ORDERS = 5


class PolymarketVenue:
    name = "polymarket"

    def __init__(self, settings: PolymarketSettings, pairs: list[tuple[str, str]], creds: Credentials | None,
                 clock: Any = None, store_path: Path | None = None, world: str = "") -> None:
        self.settings = settings
        self.live = creds is not None
        self.persistent = self.live  # live orders and fills outlive the process; paper ones do not
        self.clock = clock or RealClock()
        self.start_time = self.clock.now()
        self.hosts = settings.hosts()
        self.worker = Worker()
        self.limiter = Limiter(settings.rate_limits)
        self.reader = RestReader(settings.http_timeout_s, settings.max_retries, self.limiter)
        assets = sorted({a for a, _ in pairs})
        self.binance = BinanceFallback(settings.binance(), assets, lambda ev: self.worker.put("event", ev),
                                       settings.spot_stale_s)
        self.feed = MarketFeed(self.worker, self.clock, self.hosts, pairs, self.reader, settings.discovery_every_s,
                               binance=self.binance)
        self.markets: dict[str, MarketInfo] = {}
        self.books: dict[str, Book] = {}
        self.errors: deque[str] = deque(maxlen=20)
        self.paper = None if self.live else PaperBroker(settings.taker_delay_s)
        self.tracker = Tracker()
        self.clob: LiveClob | None = None
        self.recorder: Any = None  # record.Recorder: market data seen, in the replay format
        self.account: dict[str, Any] = {}
        self.identity = f"polymarket|{self.feed.hosts['clob_url']}|paper|{world}"
        self._store_path, self._creds, self._world = store_path, creds, world
        self._shown = 0
        self._started = False
        self._polled = False
        self._resolved: dict[str, Resolution] = {}
        self._asking: set[str] = set()
        self._next_reconcile = 0.0
        self._since = time.time() - 86400  # how far back trades are read when reconciling

    # -- start-up ---------------------------------------------------------------------------

    def connect_live(self) -> dict[str, Any]:
        """Derive API keys, read balance and allowance (blocking: this is the live start)."""
        from eth_account import Account

        assert self._creds is not None
        try:
            signer = Account.from_key(self._creds.private_key).address
        except (ValueError, TypeError):
            from nonstop.errors import UserError

            raise UserError("credentials: private_key is not a valid hex private key; fix "
                            "NONSTOP_POLYMARKET_PRIVATE_KEY or the credentials file") from None
        self.identity = f"polymarket|{self.feed.hosts['clob_url']}|{signer}|{self._world}"
        store = OrderStore(self._store_path, self.identity)
        self.clob = LiveClob(self.worker, self.settings, self._creds, store, self.limiter, self.clock)
        self.account = self.worker.call(self.clob.connect(), _CALL_TIMEOUT_S)
        return self.account

    def start(self, now: float) -> None:
        if self._started:
            return
        self._started = True
        self.worker.submit(self.feed.run(), "market data")
        if self.clob is not None:
            self.worker.submit(self.clob.run_streams(), "user channel")

    # -- the Venue interface ------------------------------------------------------------------

    def poll(self, now: float) -> list[Event]:
        self._polled = True
        out: list[Event] = []
        for kind, payload in self.worker.drain():
            if kind == "event":
                self._observe(payload, now)
                out.append(payload)
            elif kind == "error":
                self.errors.append(payload)
            else:
                self._order_message(kind, payload, now)
        if self.recorder is not None:
            self.recorder.observe(now, out)
        if self.paper is not None:
            self.paper.tick(now)
            out += self.paper.drain()
        else:
            self.tracker.expire_due(now)
            self._flush_cancels()
            out += self.tracker.drain()
            if now >= self._next_reconcile:  # a periodic re-read catches anything a socket dropped
                self._next_reconcile = now + self.settings.reconcile_every_s * getattr(self.clock, "speed", 1.0)
                if self._started:
                    self._reconcile()
        return out

    def book(self, token_id: str) -> Book | None:
        return self.books.get(token_id)

    def place(self, order: OrderRequest, now: float) -> None:
        if self.paper is not None:
            self.paper.place(order, now)
            return
        assert self.clob is not None
        known = self.tracker.orders.get(order.client_id)
        if known is not None and (known.order_id or known.final):
            return  # already sent in this run: a second place() never makes a second order
        self.tracker.add(order, self.markets.get(order.slug))
        if self._shown < _SHOW_FIRST_ORDERS:
            self._shown += 1
            print(f"live: sending {order.order_type.value} {order.side.value} {order.size:g} {order.outcome.value} "
                  f"{order.slug} @ {order.price:g} ({order.client_id})", file=sys.stderr, flush=True)
        self.worker.submit(self.clob.place(order, self.markets.get(order.slug)), f"order {order.client_id}")

    def cancel(self, client_id: str, now: float) -> None:
        if self.paper is not None:
            self.paper.cancel(client_id, now)
        else:
            self.tracker.cancel(client_id)
            self._flush_cancels()

    def cancel_all(self, now: float) -> None:
        if self.paper is not None:
            self.paper.cancel_all(now)
            return
        for cid in list(self.tracker.orders):
            self.tracker.cancel(cid)
        assert self.clob is not None
        self.tracker.to_cancel.clear()
        self.worker.submit(self.clob.cancel("*", []), "cancel-all")

    def open_orders(self) -> list[OpenOrderView]:
        if self.paper is not None:
            return self.paper.open_orders()
        return [self.tracker.view(t) for t in self.tracker.orders.values() if not t.final]

    def close(self) -> None:
        closers = [self.feed.close, self.reader.close] + ([self.clob.close] if self.clob else [])
        self.worker.stop(closers)
        if self.clob is not None:
            self.clob.store.close()
        if self.recorder is not None:
            self.recorder.close()

    # -- recovery (nonstop.state.recovery.ReconcilingVenue) --------------------------------------

    def order_states(self, orders: list[Any]) -> dict[str, OrderUpdate | None]:
        if self.clob is None:
            return {o.request.client_id: None for o in orders}
        raw = self.worker.call(recon.states(self.clob, orders, self._since), _CALL_TIMEOUT_S)
        now = self.clock.now()
        return {cid: None if v is None else self.tracker.adopt(v[0].request, self.markets.get(v[0].request.slug),
                                                                v[1], v[2], v[3], now)
                for cid, v in raw.items()}

    def fills_for(self, orders: list[Any]) -> list[Fill]:
        if self.clob is None:
            return []
        return self.worker.call(recon.fills(self.clob, orders, dict(self.markets), self._since), _CALL_TIMEOUT_S)

    def resolution(self, slug: str) -> Resolution | None:
        """Asked at start-up (waits for Gamma) and then every few cycles by the engine for windows it
        holds that never resolved on the stream: those asks never wait; the answer is fetched in the
        background and given on a later ask."""
        if slug in self._resolved:
            return self._resolved[slug]
        if not self._polled:
            found = self.worker.call(recon.resolution(self.reader, self.feed.hosts["gamma_url"], slug), _CALL_TIMEOUT_S)
            if found is not None:
                self._resolved[slug] = found
            return found
        if slug not in self._asking:
            self._asking.add(slug)
            self.worker.submit(self._ask_resolution(slug), f"resolution {slug}")
        return None

    async def _ask_resolution(self, slug: str) -> None:
        try:
            found = await recon.resolution(self.reader, self.feed.hosts["gamma_url"], slug)
            if found is not None:
                self._resolved[slug] = found
        finally:
            self._asking.discard(slug)

    def use_rate_limiter(self, limiter: Any) -> None:
        """The engine's persisted budgets (nonstop.state.ratelimit) for the venue's own calls."""
        self.limiter.share(limiter, self.clock)

    def positions(self) -> dict[str, float]:
        if self.clob is None:
            return {}
        return self.worker.call(recon.positions(self.clob, self._since), _CALL_TIMEOUT_S)

    def stats(self) -> dict[str, Any]:
        s = self.feed.stats
        out: dict[str, Any] = {"book_resyncs": s.book_resyncs, "socket_losses": s.socket_losses,
                               "discovery_errors": s.discovery_errors, "markets": len(self.markets),
                               "read_retries": self.reader.retried, "mode": "live" if self.live else "paper",
                               "spot_fallbacks": self.binance.activations, "spot_fallback_active": self.binance.active}
        if self.clob is not None:
            out.update(order_retries=self.clob.retries, duplicates_resolved=self.clob.duplicates_resolved,
                       heartbeat_lost=self.clob.heartbeat_lost)
        return out

    # -- internals ---------------------------------------------------------------------------------

    def _observe(self, ev: Event, now: float) -> None:
        if isinstance(ev, BookUpdate):
            self.books[ev.book.token_id] = ev.book
        elif isinstance(ev, MarketListed):
            self.markets[ev.info.slug] = ev.info
            for t in self.tracker.orders.values():
                if t.req.slug == ev.info.slug:
                    t.info = ev.info
        elif isinstance(ev, Resolution):
            info = self.markets.get(ev.slug)
            if info is not None:
                self.books.pop(info.up_token, None)
                self.books.pop(info.down_token, None)
        if self.paper is not None:
            self.paper.observe(ev, now)

    def _order_message(self, kind: str, payload: Any, now: float) -> None:
        tr = self.tracker
        if kind == "signed":
            tr.signed(payload[0], payload[1], now)
        elif kind == "placed":
            tr.placed(payload[0], payload[1], payload[2], now)
        elif kind == "cancelled":
            tr.cancelled(payload[1], payload[2], now)
        elif kind == "user":
            if payload.type == "trade":
                tr.trade(payload.payload, now)
            else:
                tr.user_order(payload.payload, now)
        elif kind == "reconciled":
            tr.reconciled(payload[0], payload[1], now)
        elif kind == "heartbeat":
            tr.heartbeat(payload, now)
            self.errors.append(f"CLOB heartbeat {payload}")
            if payload == "lost":
                self._reconcile()
        elif kind == "gap":
            self._reconcile()

    def _reconcile(self) -> None:
        if self.clob is not None:
            since = self.clock.now() - 3600 * getattr(self.clock, "speed", 1.0)
            self.worker.submit(self.clob.reconcile(self.tracker.open_ids(), since), "reconcile")

    def _flush_cancels(self) -> None:
        if self.clob is None or not self.tracker.to_cancel:
            return
        for cid, oid in self.tracker.to_cancel:
            self.worker.submit(self.clob.cancel(cid, [oid]), f"cancel {cid}")
        self.tracker.to_cancel.clear()
