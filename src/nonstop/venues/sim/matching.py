"""Order matching: takers walk the book as it stands after the taker delay, makers fill from flow.

Rules (documented here because a simulator's fill rule *is* its behaviour):
- Validation on arrival (order time + order latency): see `orders.refusal`.
- FOK/FAK, and GTC/GTD limits that cross the book on arrival, are takers: DELAYED first, then
  matched at arrival + taker delay against the book *at that time*, level by level up to the
  limit (other accounts' resting orders included, own orders skipped). FAK cancels the rest,
  FOK fills all or nothing; a crossing GTC/GTD rests its remainder. Takers pay
  `taker_fee(shares, price)` per level; makers pay nothing.
- Liquidity a taker took is remembered per (market, side, price) and comes back with time
  constant `recovery_s`, so two orders cannot take the same shares.
- Resting orders fill (as makers, at their own price) when, in a venue second, (a) the makers'
  book crosses them, against the crossing depth, or (b) taker flow trades through their price:
  flow at a worse price fills them up to its size; flow exactly at their price fills them
  pro rata to their share of that level (no queue position is modelled).
- Nothing fills at or after the market's end: resting orders are cancelled then, and a taker
  whose delay ends after the close is cancelled.
"""

from __future__ import annotations

import math

from nonstop.markets import taker_fee
from nonstop.venues.base import Event, Fill, OrderStatus, OrderType, OrderUpdate, Side
from nonstop.venues.sim.book import BookMaker, Ladder
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.flow import Print
from nonstop.venues.sim.orders import SimOrder, refusal
from nonstop.venues.sim.windows import SimMarket

Out = list[tuple[str, Event]]  # (account, event)
_EPS = 1e-9


class Matcher:
    """Every account's orders and balances, and the liquidity they have taken."""

    def __init__(self, cfg: SimConfig, books: BookMaker) -> None:
        self._cfg = cfg
        self._books = books
        self.resting: dict[int, list[SimOrder]] = {}
        self.version: dict[int, int] = {}  # market key -> bumped on any change to its displayed book
        self._consumed: dict[int, dict[tuple[int, int], list[tuple[float, float]]]] = {}
        self._balances: dict[tuple[str, str], float] = {}
        self._fills = 0
        self._delayed: dict[int, SimOrder] = {}  # seq -> taker waiting out the delay (reserves sells)

    def touched(self, m: SimMarket, t: float | None = None) -> bool:
        """Whether anyone's orders change this market's book (else the makers' book is the public one).
        With `t`, liquidity taken long enough ago to have refilled no longer counts (and is forgotten)."""
        if self.resting.get(m.key):
            return True
        cons = self._consumed.get(m.key)
        if not cons:
            return False
        if t is not None:
            horizon = 10 * self._cfg.recovery_s
            for key in [k for k, taken in cons.items() if not taken or t - taken[-1][0] >= horizon]:
                del cons[key]
            if not cons:
                del self._consumed[m.key]
                return False
        return True

    def balance(self, account: str, token_id: str) -> float:
        return self._balances.get((account, token_id), 0.0)

    # -- liquidity ---------------------------------------------------------------

    def net_ladder(self, m: SimMarket, t: float) -> tuple[Ladder, Ladder]:
        """The makers' ladder at `t` minus what takers recently took from it."""
        bids, asks = self._books.ladder(m, t)
        cons = self._consumed.get(m.key)
        if not cons:
            return bids, asks
        return self._net(bids, cons, -1, t), self._net(asks, cons, 1, t)

    def _net(self, ladder: Ladder, cons: dict[tuple[int, int], list[tuple[float, float]]], side: int,
             t: float) -> Ladder:
        tau = self._cfg.recovery_s
        out: Ladder = []
        for price, size in ladder:
            taken = cons.get((side, price))
            if taken:
                taken[:] = [(t0, s) for t0, s in taken if t - t0 < 10 * tau]
                size -= sum(s * math.exp(-(t - t0) / tau) for t0, s in taken if t0 <= t)
            if size > 0.005:
                out.append((price, round(size, 2)))
        return out

    def display(self, m: SimMarket, t: float) -> tuple[Ladder, Ladder]:
        """What the public book shows: the net makers' ladder plus every account's resting orders."""
        bids, asks = self.net_ladder(m, t)
        rest = self.resting.get(m.key)
        if not rest:
            return bids, asks
        extra: dict[int, dict[int, float]] = {1: {}, -1: {}}
        for o in rest:
            extra[o.up_side][o.up_price] = extra[o.up_side].get(o.up_price, 0.0) + o.remaining
        return self._overlay(bids, extra[1], True), self._overlay(asks, extra[-1], False)

    @staticmethod
    def _overlay(ladder: Ladder, extra: dict[int, float], descending: bool) -> Ladder:
        if not extra:
            return ladder
        merged = dict(ladder)
        for price, size in extra.items():
            merged[price] = round(merged.get(price, 0.0) + size, 2)
        return sorted(merged.items(), reverse=descending)

    # -- order lifecycle (each returns the events to deliver, per account) -----

    def arrive(self, o: SimOrder, t: float, tick: int) -> tuple[Out, bool]:
        """Validate on arrival; returns the events and whether a taker execution must be scheduled."""
        reason = refusal(o, t, tick, self._cfg.min_size, self._sellable(o))
        if reason:
            return self._update(o, OrderStatus.REJECTED, t, reason), False
        if o.req.order_type.is_taker or self._walk(o, t):
            self._delayed[o.seq] = o
            return self._update(o, OrderStatus.DELAYED, t), True
        return self._rest(o, t), False

    def execute(self, o: SimOrder, t: float) -> Out:
        """The taker delay is over: match against the book as it stands now."""
        m = o.market
        if o.status is not OrderStatus.DELAYED or m is None:
            return []
        self._delayed.pop(o.seq, None)
        if m.closed or t >= m.end:
            return self._update(o, OrderStatus.CANCELLED, t, f"market {m.slug} closed before the taker delay ended")
        takes = self._walk(o, t)
        available = sum(size for _, size, _ in takes)
        kind = o.req.order_type
        if kind is OrderType.FOK and available < o.remaining - _EPS:
            return self._update(o, OrderStatus.CANCELLED, t, f"FOK: only {available:g} shares available at or "
                                f"better than {o.req.price:g}; nothing filled")
        out: Out = []
        for price, size, maker in takes:
            size = min(size, o.remaining)
            if size <= _EPS:
                break
            if maker is None:
                self._take(m, o.up_side, price, size, t)
            else:
                out += self._maker_fill(maker, size, t)
            out += self._fill(o, o.token_price(price), size, t, maker=False)
        if o.remaining <= _EPS:
            return out + self._update(o, OrderStatus.FILLED, t)
        if kind.is_taker:
            why = (f"{kind.value}: filled {o.filled:g} of {o.req.size:g} at or better than {o.req.price:g}; "
                   f"the rest is cancelled") if o.filled > 0 else \
                f"{kind.value}: no liquidity at or better than {o.req.price:g}; cancelled"
            return out + self._update(o, OrderStatus.CANCELLED, t, why)
        return out + self._rest(o, t)

    def cancel(self, o: SimOrder, t: float, reason: str = "cancelled", status: OrderStatus = OrderStatus.CANCELLED) -> Out:
        if o.status is OrderStatus.DELAYED:
            return self._update(o, OrderStatus.DELAYED, t, "cancel refused: a taker order cannot be cancelled "
                                "during the taker delay")
        if o.status not in (OrderStatus.LIVE, OrderStatus.PARTIAL) or o.market is None:
            return []
        self._unrest(o)
        return self._update(o, status, t, reason)

    def close_market(self, m: SimMarket, t: float) -> Out:
        out: Out = []
        for o in list(self.resting.get(m.key, [])):
            out += self.cancel(o, t, f"market {m.slug} closed")
        self.resting.pop(m.key, None)
        self._consumed.pop(m.key, None)
        return out

    def on_second(self, m: SimMarket, k: int, prints: list[Print]) -> Out:
        """Fill resting orders of market m for venue second k: crossed by the makers, or traded through."""
        rest = self.resting.get(m.key)
        if not rest:
            return []
        out: Out = []
        bids, asks = self.net_ladder(m, k)
        for side, ladder in ((1, asks), (-1, bids)):
            opposite = [[price, size] for price, size in ladder]
            for o in self._priority(rest, side):
                for level in opposite:
                    if (level[0] - o.up_price) * side > 0 or o.remaining <= _EPS:
                        break
                    take = min(level[1], o.remaining)
                    if take <= _EPS:
                        continue
                    level[1] -= take
                    self._take(m, side, int(level[0]), take, k)
                    out += self._maker_fill(o, take, k)
        for side in (1, -1):
            # Flow that hits the Up bids (-1) meets our Up bids (+1), and vice versa.
            flow = [p for p in prints if p.up_side == -side]
            if not flow:
                continue
            volume, at = sum(p.shares for p in flow), flow[0].up_price
            queue = next((s for p, s in (bids if side == 1 else asks) if p == at), 0.0)
            for o in self._priority(self.resting.get(m.key, []), side):
                if volume <= _EPS:
                    break
                gap = (o.up_price - at) * side
                if gap > 0:
                    fill = min(o.remaining, volume)
                elif gap == 0:
                    fill = min(o.remaining, volume * o.remaining / (o.remaining + queue))
                else:
                    break
                fill = math.floor(fill * 100) / 100
                if fill > _EPS:
                    volume -= fill
                    out += self._maker_fill(o, fill, k)
        return out

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _priority(rest: list[SimOrder], side: int) -> list[SimOrder]:
        return sorted((o for o in rest if o.up_side == side), key=lambda o: (-o.up_price * side, o.seq))

    def _sellable(self, o: SimOrder) -> float:
        if o.req.side is not Side.SELL:
            return math.inf
        held = self.balance(o.account, o.req.token_id)
        offered = sum(r.remaining for r in self._open_sells(o))
        return max(held - offered, 0.0)

    def _open_sells(self, o: SimOrder) -> list[SimOrder]:
        m = o.market
        if m is None:
            return []
        return [r for r in self.resting.get(m.key, []) + list(self._delayed.values())
                if r is not o and r.account == o.account and r.req.side is Side.SELL and r.req.token_id == o.req.token_id]

    def _walk(self, o: SimOrder, t: float) -> list[tuple[int, float, SimOrder | None]]:
        """Liquidity this taker could take at `t`, best first: (Up price, shares, resting maker or None)."""
        m = o.market
        assert m is not None
        bids, asks = self.net_ladder(m, t)
        side = o.up_side
        levels: list[tuple[int, int, int, float, SimOrder | None]] = [
            (p * side, 1, 0, s, None) for p, s in (asks if side == 1 else bids)]
        for r in self.resting.get(m.key, []):
            if r.up_side == -side and r.account != o.account:
                levels.append((r.up_price * side, 0, r.seq, r.remaining, r))
        levels.sort(key=lambda x: (x[0], x[1], x[2]))
        return [(key * side, size, maker) for key, _, _, size, maker in levels if key <= o.up_price * side]

    def _take(self, m: SimMarket, side: int, price: int, size: float, t: float) -> None:
        self._consumed.setdefault(m.key, {}).setdefault((side, price), []).append((t, size))
        self.version[m.key] = self.version.get(m.key, 0) + 1

    def _rest(self, o: SimOrder, t: float) -> Out:
        assert o.market is not None
        self.resting.setdefault(o.market.key, []).append(o)
        self.version[o.market.key] = self.version.get(o.market.key, 0) + 1
        return self._update(o, OrderStatus.PARTIAL if o.filled > 0 else OrderStatus.LIVE, t)

    def _unrest(self, o: SimOrder) -> None:
        assert o.market is not None
        rest = self.resting.get(o.market.key, [])
        if o in rest:
            rest.remove(o)
        self.version[o.market.key] = self.version.get(o.market.key, 0) + 1

    def _maker_fill(self, o: SimOrder, size: float, t: float) -> Out:
        out = self._fill(o, math.floor(o.req.price * 1000.0 + 0.5), size, t, maker=True)
        if o.remaining <= _EPS:
            self._unrest(o)
            return out + self._update(o, OrderStatus.FILLED, t)
        self.version[o.market.key] = self.version.get(o.market.key, 0) + 1  # type: ignore[union-attr]
        return out + self._update(o, OrderStatus.PARTIAL, t)

    def _fill(self, o: SimOrder, price: int, size: float, t: float, maker: bool) -> Out:
        size = round(size, 6)
        o.filled = round(o.filled + size, 6)
        p = price / 1000.0
        fee = 0.0 if maker else taker_fee(size, p, self._cfg.fee_rate, self._cfg.fee_exponent)
        sign = 1.0 if o.req.side is Side.BUY else -1.0
        key = (o.account, o.req.token_id)
        self._balances[key] = round(self._balances.get(key, 0.0) + sign * size, 6)
        self._fills += 1
        fill = Fill(f"sim-fill-{self._fills:09d}", o.req.client_id, o.req.slug, o.req.token_id, o.req.outcome,
                    o.req.side, p, size, fee, float(t), maker)
        return [(o.account, fill)]

    @staticmethod
    def _update(o: SimOrder, status: OrderStatus, t: float, reason: str = "") -> Out:
        o.status = status
        return [(o.account, OrderUpdate(o.req.client_id, status, float(t), reason, o.venue_id, o.filled))]
