"""FakeExchange: the simulator's exchange core served as Polymarket, on a wall-clock x speed clock.

One instance holds everything a client could see: markets (kept after they resolve, for Gamma
lookups), the published books, each API key's orders, trades, cash and heartbeat. `step()`
advances the simulator to the current venue time and turns what it delivered into socket
messages; request handlers call the methods below and then `step()` so an order's arrival is
processed before its POST is answered.
"""

from __future__ import annotations

import heapq
import time
import uuid
from dataclasses import dataclass
from typing import Any

from nonstop.markets import MarketInfo
from nonstop.venues.base import (Book, BookUpdate, Fill, MarketListed, OracleTick, OrderStatus, OrderUpdate,
                                 Resolution, SpotTick, TradePrint)
from nonstop.venues.exchange_server import wire
from nonstop.venues.exchange_server.hub import Hub
from nonstop.venues.exchange_server.records import SETTLE_PATH, Account, OrderRec, TradeRec
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.exchange import Delivered, SimExchange

_STATUS = {OrderStatus.LIVE: "LIVE", OrderStatus.DELAYED: "DELAYED", OrderStatus.PARTIAL: "LIVE",
           OrderStatus.FILLED: "MATCHED", OrderStatus.CANCELLED: "CANCELED", OrderStatus.EXPIRED: "CANCELED"}
_ORDER_EVENT = {OrderStatus.LIVE: "PLACEMENT", OrderStatus.DELAYED: "PLACEMENT", OrderStatus.PARTIAL: "UPDATE",
                OrderStatus.FILLED: "UPDATE", OrderStatus.CANCELLED: "CANCELLATION",
                OrderStatus.EXPIRED: "CANCELLATION", OrderStatus.REJECTED: "CANCELLATION"}


class VenueClock:
    def __init__(self, start: float, speed: float) -> None:
        self.start, self.speed, self._mono0 = float(start), float(speed), time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._mono0) * self.speed


@dataclass
class MarketRec:
    info: MarketInfo
    listed_at: float
    resolved: tuple[str, float] | None = None


@dataclass
class Options:
    speed: float = 1.0
    settle_s: float = 1.0  # venue seconds from MATCHED to MINED
    confirm_s: float = 3.0  # venue seconds from MATCHED to CONFIRMED (or FAILED)
    heartbeat_timeout_s: float = 10.0  # wall seconds without a heartbeat before cancel-all
    collateral: float = 10_000.0  # pUSD a new account starts with


class FakeExchange:
    def __init__(self, seed: int, config: SimConfig, options: Options | None = None) -> None:
        self.opts = options or Options()
        self.sim = SimExchange(seed, config)
        self.seed, self.config = seed, config
        self.clock = VenueClock(config.start_time, self.opts.speed)
        self.hub = Hub()
        self.markets: dict[str, MarketRec] = {}
        self.by_token: dict[str, MarketRec] = {}
        self.by_cid: dict[str, MarketRec] = {}
        self.books: dict[str, Book] = {}
        self.last_trade: dict[str, float] = {}
        self.orders: dict[str, OrderRec] = {}
        self.trades: dict[str, TradeRec] = {}
        self.accounts: dict[str, Account] = {}
        self._settle: list[tuple[float, int, str]] = []
        self._seq = 0
        self._oracle: dict[str, list[float]] = {}
        self.fail_trades = 0  # fault injection: the next N trades end FAILED
        self.heartbeats_ignored = False  # fault injection: heartbeats are not accepted
        self.rtds_off = False  # fault injection: the RTDS socket refuses connections

    # -- time ------------------------------------------------------------------------

    def now(self) -> float:
        return max(self.clock.now(), self.sim.now)

    def step(self, to: float | None = None) -> None:
        t = self.clock.now() if to is None else to
        if t > self.sim.now:
            self._process(self.sim.advance(t))
        self._settle_trades(self.now())
        self._expire_heartbeats()

    # -- accounts ------------------------------------------------------------------------

    def account(self, api_key: str) -> Account:
        acct = self.accounts.get(api_key)
        if acct is None:
            acct = self.accounts[api_key] = Account(api_key, self.opts.collateral)
        return acct

    def heartbeat(self, api_key: str, heartbeat_id: str) -> tuple[bool, str]:
        """(accepted, id): the next id to send, or the one expected when refused."""
        acct = self.account(api_key)
        if acct.heartbeat_id is not None and heartbeat_id != acct.heartbeat_id:
            return False, acct.heartbeat_id
        if acct.heartbeat_id is None and heartbeat_id != "":
            return False, ""
        acct.heartbeat_id = str(uuid.uuid4())
        acct.heartbeat_ok_at = time.monotonic()
        return True, acct.heartbeat_id

    def _expire_heartbeats(self) -> None:
        limit = time.monotonic() - self.opts.heartbeat_timeout_s
        for acct in self.accounts.values():
            if acct.heartbeat_id is not None and acct.heartbeat_ok_at < limit:
                acct.heartbeat_id = None  # the registration lapses with the cancel
                acct.heartbeat_expiries += 1
                self.cancel_all(acct.api_key)

    # -- orders --------------------------------------------------------------------------

    def add_order(self, rec: OrderRec) -> str:
        """Hand a validated order to the matching engine; returns its insert status or the refusal."""
        self.orders[rec.id] = rec
        self.sim.place(rec.req, self.now(), account=rec.api_key)
        self.step(to=self.now() + 1e-3)
        if rec.status == "REJECTED":
            del self.orders[rec.id]
            return "rejected"
        return {"LIVE": "live", "DELAYED": "delayed", "MATCHED": "matched"}.get(rec.status, "live")

    def cancel(self, api_key: str, ids: list[str]) -> tuple[list[str], dict[str, str]]:
        done, refused = [], {}
        for oid in ids:
            rec = self.orders.get(oid)
            if rec is None or rec.api_key != api_key:
                refused[oid] = "order not found"
            elif rec.status == "DELAYED":
                refused[oid] = "cannot cancel because the order is in pending/delayed status"
            elif not rec.is_open:
                refused[oid] = f"order is {rec.status.lower()}"
            else:
                self.sim.cancel(oid, self.now(), account=api_key)
                done.append(oid)
        if done:
            self.step(to=self.now() + 1e-3)
        return done, refused

    def cancel_all(self, api_key: str, cid: str = "", asset: str = "") -> tuple[list[str], dict[str, str]]:
        ids = [r.id for r in self.orders.values() if r.api_key == api_key and r.is_open
               and (not cid or wire.condition_id(r.info.slug) == cid) and (not asset or r.req.token_id == asset)]
        return self.cancel(api_key, ids)

    def reserved(self, api_key: str) -> float:
        """Cash promised to this key's open BUY orders."""
        return sum(r.req.price * (r.req.size - r.size_matched) for r in self.orders.values()
                   if r.api_key == api_key and r.is_open and r.req.side.value == "BUY")

    # -- what the simulator delivered ---------------------------------------------------

    def _process(self, delivered: list[Delivered]) -> None:
        changes: dict[str, list[dict[str, str]]] = {}
        for d in delivered:
            ev = d.event
            if isinstance(ev, BookUpdate):
                self._book(ev.book, d.at, changes)
            elif isinstance(ev, TradePrint):
                rec = self.by_token.get(ev.token_id)
                self.last_trade[ev.token_id] = ev.price
                if rec is not None:
                    self.hub.market({ev.token_id}, wire.ws_last_trade(rec.info, ev.token_id, ev.price, ev.size,
                                                                      ev.taker_side.value, d.at))
            elif isinstance(ev, SpotTick):
                self.hub.rtds("crypto_prices", wire.rtds("crypto_prices", f"{ev.asset.lower()}usdt", ev.price, ev.ts, d.at))
                self.hub.binance(f"{ev.asset.lower()}usdt@trade", wire.binance_trade(ev.asset, ev.price, ev.ts, d.at))
            elif isinstance(ev, OracleTick):
                self._oracle_tick(ev, d.at)
            elif isinstance(ev, MarketListed):
                self._listed(ev.info, d.at)
            elif isinstance(ev, Resolution):
                self._resolved(ev, d.at)
            elif isinstance(ev, OrderUpdate) and d.account is not None:
                self._order_update(ev, d.at)
            elif isinstance(ev, Fill) and d.account is not None:
                self._fill(d.account, ev, d.at)
        for cid, items in changes.items():
            rec = self.by_cid[cid]
            self.hub.market({i["asset_id"] for i in items}, wire.ws_price_change(rec.info, self.now(), items))

    def _book(self, book: Book, at: float, changes: dict[str, list[dict[str, str]]]) -> None:
        rec = self.by_token.get(book.token_id)
        old = self.books.get(book.token_id)
        self.books[book.token_id] = book
        if rec is None:
            return
        if old is None:
            self.hub.market({book.token_id}, [wire.ws_book(book, rec.info, self.last_trade.get(book.token_id))])
            return
        items = changes.setdefault(wire.condition_id(rec.info.slug), [])
        for side, before, after in (("BUY", old.bids, book.bids), ("SELL", old.asks, book.asks)):
            was, now = {lv.price: lv.size for lv in before}, {lv.price: lv.size for lv in after}
            for price in sorted(set(was) | set(now)):
                if was.get(price) != now.get(price):
                    items.append(wire.price_change_item(book.token_id, price, now.get(price, 0.0), side, book))
        if (old.best_bid, old.best_ask) != (book.best_bid, book.best_ask):
            self.hub.market({book.token_id}, wire.ws_best_bid_ask(rec.info, book, at), custom_only=True)

    def _oracle_tick(self, ev: OracleTick, at: float) -> None:
        symbol = f"{ev.asset.lower()}/usd"
        self.hub.rtds("crypto_prices_chainlink", wire.rtds("crypto_prices_chainlink", symbol, ev.price, ev.ts, at))
        window = self._oracle.setdefault(ev.asset, [])
        window.append(ev.price)
        del window[:-60]
        twap = sum(window) / len(window)
        self.hub.rtds("crypto_prices_twap_sixty",
                      wire.rtds("crypto_prices_twap_sixty", symbol, round(twap, 8), ev.ts, at, window_s=60))

    def _listed(self, info: MarketInfo, at: float) -> None:
        rec = self.markets.get(info.slug)
        if rec is None:
            rec = MarketRec(info, at)
            self.markets[info.slug] = rec
            self.by_token[info.up_token] = self.by_token[info.down_token] = rec
            self.by_cid[wire.condition_id(info.slug)] = rec
            self.hub.broadcast_custom(wire.ws_new_market(info, at))
            return
        if info.tick_size != rec.info.tick_size:
            for token in (info.up_token, info.down_token):
                self.hub.market({token}, wire.ws_tick_size_change(info, token, rec.info.tick_size, info.tick_size, at))
        rec.info = info

    def _resolved(self, ev: Resolution, at: float) -> None:
        rec = self.markets.get(ev.slug)
        if rec is None:
            return
        rec.resolved = (ev.winner.value, ev.final_value)
        info = rec.info
        self.hub.market({info.up_token, info.down_token}, wire.ws_new_market(info, at, winner=ev.winner.value),
                        custom_only=True)
        winner = info.token(ev.winner)
        for acct in self.accounts.values():
            acct.collateral += max(acct.tokens.pop(winner, 0.0), 0.0)
            acct.tokens.pop(info.token(ev.winner.other), None)
        for token in (info.up_token, info.down_token):
            self.books.pop(token, None)

    def _order_update(self, ev: OrderUpdate, at: float) -> None:
        rec = self.orders.get(ev.client_id)
        if rec is None:
            return
        if ev.status is OrderStatus.REJECTED and rec.status == "PENDING":
            rec.status, rec.reject_reason = "REJECTED", ev.reason
            return
        if ev.status is OrderStatus.PENDING:
            return
        rec.status = _STATUS.get(ev.status, "CANCELED")
        rec.size_matched = max(rec.size_matched, ev.filled)
        message = {"event_type": "order", "type": _ORDER_EVENT[ev.status], **rec.json(),
                   "order_owner": rec.api_key, "timestamp": wire.ms(at)}
        self.hub.user(rec.api_key, wire.condition_id(rec.info.slug), message)

    def _fill(self, api_key: str, fill: Fill, at: float) -> None:
        rec = self.orders.get(fill.client_id)
        if rec is None:
            return
        self._seq += 1
        trade = TradeRec(str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.seed}|{fill.fill_id}")), api_key, rec.maker,
                         rec.id, fill, rec.info, int(round(rec.info.fee_rate * 10_000)), matched_at=at, updated_at=at)
        if self.fail_trades > 0:
            self.fail_trades -= 1
            trade.fails = True
        self.trades[trade.id] = trade
        rec.trades.append(trade.id)
        self.account(api_key).apply(fill)
        self._user_trade(trade, at)
        heapq.heappush(self._settle, (at + self.opts.settle_s, self._seq, trade.id))
        heapq.heappush(self._settle, (at + self.opts.confirm_s, self._seq, trade.id))

    def _settle_trades(self, now: float) -> None:
        while self._settle and self._settle[0][0] <= now:
            at, _, tid = heapq.heappop(self._settle)
            trade = self.trades[tid]
            first, last = SETTLE_PATH[trade.fails]
            trade.status = first if trade.status == "MATCHED" else last
            trade.updated_at = at
            if trade.status == "MINED":
                trade.tx_hash = "0x" + uuid.uuid5(uuid.NAMESPACE_OID, tid).hex * 2
            if trade.status == "FAILED":
                self.account(trade.api_key).apply(trade.fill, sign=-1)
            self._user_trade(trade, at)

    def _user_trade(self, trade: TradeRec, at: float) -> None:
        message: dict[str, Any] = {"event_type": "trade", "type": "TRADE", **trade.json(), "timestamp": wire.ms(at)}
        self.hub.user(trade.api_key, wire.condition_id(trade.info.slug), message)
