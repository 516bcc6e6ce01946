"""Paper trading on real data: orders filled locally against the venue's real books and prints.

Rules (deterministic from the event stream and the poll times, so a recording replays the same):
- Checks on arrival as the venue makes them: listed and open market, token of that market,
  size >= the minimum, price on the tick grid inside [tick, 1 - tick], GTD expiry in the future,
  a SELL covered by shares held and not already offered.
- FOK/FAK, and GTC/GTD limits that cross the book, are takers: DELAYED for the taker delay, then
  they walk the book as it stands, level by level up to the limit, paying the taker fee. Shares
  taken are remembered per level until that token's book next changes. FOK fills all or
  nothing, FAK cancels the rest, a crossing GTC/GTD rests its remainder.
- Resting orders fill as makers (no fee) at their own price when a print trades *through* it or
  when the book crosses it; a print exactly at their price does not fill them (queue unknown).
- At the window's end resting orders are cancelled; GTDs expire at `expires_at`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nonstop.markets import MarketInfo, taker_fee
from nonstop.venues.base import (Book, BookUpdate, Event, Fill, MarketListed, OpenOrderView, OrderRequest,
                                 OrderStatus, OrderType, OrderUpdate, Resolution, Side, TradePrint)

_EPS = 1e-9


@dataclass
class PaperOrder:
    req: OrderRequest
    status: OrderStatus = OrderStatus.PENDING
    filled: float = 0.0
    execute_at: float | None = None  # a taker's end of delay
    cancel_after: bool = False  # cancel asked while DELAYED

    @property
    def remaining(self) -> float:
        return max(round(self.req.size - self.filled, 6), 0.0)


class PaperBroker:
    def __init__(self, taker_delay_s: float) -> None:
        self.delay = taker_delay_s
        self.markets: dict[str, MarketInfo] = {}
        self.books: dict[str, Book] = {}
        self.orders: dict[str, PaperOrder] = {}
        self.holdings: dict[str, float] = {}
        self.consumed: dict[tuple[str, float], float] = {}
        self.out: list[Event] = []
        self._fills = 0

    # -- market data in -----------------------------------------------------------------

    def observe(self, ev: Event, now: float) -> None:
        if isinstance(ev, MarketListed):
            self.markets[ev.info.slug] = ev.info
        elif isinstance(ev, BookUpdate):
            self.books[ev.book.token_id] = ev.book
            for key in [k for k in self.consumed if k[0] == ev.book.token_id]:
                del self.consumed[key]
            self._cross_resting(ev.book, now)
        elif isinstance(ev, TradePrint):
            self._print_through(ev, now)
        elif isinstance(ev, Resolution):
            info = self.markets.get(ev.slug)
            if info is not None:
                for token in (info.up_token, info.down_token):
                    self.holdings.pop(token, None)

    # -- orders --------------------------------------------------------------------------

    def place(self, req: OrderRequest, now: float) -> None:
        o = self.orders.setdefault(req.client_id, PaperOrder(req))
        if o.status is not OrderStatus.PENDING:
            return  # a resend of a known order changes nothing
        why = self._refusal(req, now)
        if why:
            return self._set(o, OrderStatus.REJECTED, now, why)
        if req.order_type.is_taker or self._crosses(req):
            o.execute_at = now + self.delay
            return self._set(o, OrderStatus.DELAYED, now)
        self._set(o, OrderStatus.LIVE, now)

    def cancel(self, client_id: str, now: float) -> None:
        o = self.orders.get(client_id)
        if o is None or o.status.is_final:
            return
        if o.status is OrderStatus.DELAYED:
            o.cancel_after = True  # a taker in its delay cannot be cancelled; its rest can
            return
        self._set(o, OrderStatus.CANCELLED, now, "cancelled")

    def cancel_all(self, now: float) -> None:
        for cid in list(self.orders):
            self.cancel(cid, now)

    def tick(self, now: float) -> None:
        for o in list(self.orders.values()):
            if o.status.is_final:
                continue
            info = self.markets.get(o.req.slug)
            if o.execute_at is not None and now >= o.execute_at:
                o.execute_at = None
                self._take(o, now)
            elif info is not None and now >= info.end:
                self._set(o, OrderStatus.CANCELLED, now, f"market {info.slug} closed")
            elif o.req.order_type is OrderType.GTD and o.req.expires_at is not None and now >= o.req.expires_at:
                self._set(o, OrderStatus.EXPIRED, now, f"expired at {o.req.expires_at:g}")

    def open_orders(self) -> list[OpenOrderView]:
        return [OpenOrderView(o.req.client_id, o.status, o.filled, o.req.size)
                for o in self.orders.values() if not o.status.is_final]

    def drain(self) -> list[Event]:
        out, self.out = self.out, []
        return out

    # -- matching ------------------------------------------------------------------------------

    def _take(self, o: PaperOrder, now: float) -> None:
        req = o.req
        book = self.books.get(req.token_id)
        levels = (book.asks if req.side is Side.BUY else book.bids) if book else ()
        plan: list[tuple[float, float]] = []
        want = o.remaining
        for lv in levels:
            if want <= _EPS or (lv.price > req.price + _EPS if req.side is Side.BUY else lv.price < req.price - _EPS):
                break
            avail = lv.size - self.consumed.get((req.token_id, lv.price), 0.0)
            take = min(want, max(avail, 0.0))
            if take > _EPS:
                plan.append((lv.price, round(take, 6)))
                want -= take
        if req.order_type is OrderType.FOK and want > _EPS:
            return self._set(o, OrderStatus.CANCELLED, now, "FOK could not be filled in full; killed")
        info = self.markets.get(req.slug)
        for price, size in plan:
            self.consumed[(req.token_id, price)] = self.consumed.get((req.token_id, price), 0.0) + size
            fee = taker_fee(size, price, info.fee_rate, info.fee_exponent) if info else taker_fee(size, price)
            self._fill(o, price, size, fee, now, maker=False)
        if o.remaining <= _EPS:
            self._set(o, OrderStatus.FILLED, now)
        elif req.order_type.is_taker or o.cancel_after:
            self._set(o, OrderStatus.CANCELLED, now, "FAK remainder cancelled" if req.order_type.is_taker else "cancelled")
        else:
            self._set(o, OrderStatus.PARTIAL if o.filled > _EPS else OrderStatus.LIVE, now)

    def _cross_resting(self, book: Book, now: float) -> None:
        for o in self._resting(book.token_id):
            levels = book.asks if o.req.side is Side.BUY else book.bids
            through = sum(lv.size for lv in levels if (lv.price <= o.req.price if o.req.side is Side.BUY
                                                       else lv.price >= o.req.price))
            if through > _EPS:
                self._maker_fill(o, through, now)

    def _print_through(self, ev: TradePrint, now: float) -> None:
        for o in self._resting(ev.token_id):
            if (o.req.side is Side.BUY and ev.taker_side is Side.SELL and ev.price < o.req.price - _EPS) or \
                    (o.req.side is Side.SELL and ev.taker_side is Side.BUY and ev.price > o.req.price + _EPS):
                self._maker_fill(o, ev.size, now)

    def _maker_fill(self, o: PaperOrder, available: float, now: float) -> None:
        size = round(min(o.remaining, available), 6)
        if size <= _EPS:
            return
        self._fill(o, o.req.price, size, 0.0, now, maker=True)
        self._set(o, OrderStatus.FILLED if o.remaining <= _EPS else OrderStatus.PARTIAL, now)

    def _resting(self, token: str) -> list[PaperOrder]:
        return [o for o in self.orders.values() if o.req.token_id == token and o.execute_at is None
                and o.status in (OrderStatus.LIVE, OrderStatus.PARTIAL)]

    def _fill(self, o: PaperOrder, price: float, size: float, fee: float, now: float, maker: bool) -> None:
        self._fills += 1
        o.filled = round(o.filled + size, 6)
        held = self.holdings.get(o.req.token_id, 0.0)
        self.holdings[o.req.token_id] = held + (size if o.req.side is Side.BUY else -size)
        r = o.req
        self.out.append(Fill(f"paper:{r.client_id}:{self._fills}", r.client_id, r.slug, r.token_id, r.outcome,
                             r.side, price, size, fee, now, maker))

    def _set(self, o: PaperOrder, status: OrderStatus, now: float, reason: str = "") -> None:
        o.status = status
        self.out.append(OrderUpdate(o.req.client_id, status, now, reason, f"paper-{o.req.client_id}", o.filled))

    def _crosses(self, req: OrderRequest) -> bool:
        book = self.books.get(req.token_id)
        if book is None:
            return False
        if req.side is Side.BUY:
            return book.best_ask is not None and req.price >= book.best_ask - _EPS
        return book.best_bid is not None and req.price <= book.best_bid + _EPS

    def _refusal(self, req: OrderRequest, now: float) -> str:
        info = self.markets.get(req.slug)
        if info is None:
            return f"unknown market {req.slug!r}: trade a slug from a MarketListed event"
        if req.token_id not in (info.up_token, info.down_token) or info.outcome_of(req.token_id) is not req.outcome:
            return f"token {req.token_id} is not the {req.outcome.value} token of {req.slug}"
        if now >= info.end:
            return f"market {req.slug} closed at {info.end}"
        if not req.size >= info.min_size:
            return f"size {req.size:g} is below the minimum order size of {info.min_size:g} shares"
        steps = req.price / info.tick_size
        if not math.isfinite(steps) or abs(steps - round(steps)) > 1e-6:
            return f"price {req.price} is not on the tick grid of {info.tick_size:g}; round it to the tick"
        if not info.tick_size - _EPS <= req.price <= 1 - info.tick_size + _EPS:
            return f"price {req.price} is outside [{info.tick_size:g}, {1 - info.tick_size:g}]"
        if req.order_type is OrderType.GTD and (req.expires_at is None or req.expires_at <= now):
            return "GTD order needs expires_at later than its arrival time"
        if req.side is Side.SELL:
            offered = sum(o.remaining for o in self.orders.values() if o.req is not req and o.req.side is Side.SELL
                          and o.req.token_id == req.token_id and not o.status.is_final)
            free = self.holdings.get(req.token_id, 0.0) - offered
            if req.size > free + _EPS:
                return f"not enough balance: selling {req.size:g} shares but only {max(free, 0):g} are held and free"
        return ""
