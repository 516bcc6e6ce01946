"""The position manager: the one owner of open positions, orders, cash and trade history.

Fed by fills, order updates and resolutions (after the journal has them); a
position is settled on resolution, its closed trade moved to history and freed.
Each fill id is applied once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from nonstop.markets import Outcome
from nonstop.venues.base import Fill, OrderRequest, OrderStatus, OrderUpdate, Resolution, Side


@dataclass(slots=True)
class OrderRecord:
    request: OrderRequest
    status: OrderStatus = OrderStatus.PENDING
    filled: float = 0.0
    reason: str = ""

    @property
    def open_notional(self) -> float:
        if self.status.is_final or self.request.side is not Side.BUY:
            return 0.0
        return (self.request.size - self.filled) * self.request.price


@dataclass(slots=True)
class Position:
    slot_id: str
    slug: str
    asset: str
    timeframe: str
    up_shares: float = 0.0
    down_shares: float = 0.0
    cost: float = 0.0  # cash paid for buys minus cash received for sells, fees excluded
    fees: float = 0.0

    def shares(self, outcome: Outcome) -> float:
        return self.up_shares if outcome is Outcome.UP else self.down_shares


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    slot_id: str
    slug: str
    asset: str
    timeframe: str
    outcome: Outcome  # the side held (the larger one)
    winner: Outcome
    shares: float
    cost: float
    fees: float
    payout: float
    pnl: float
    closed_at: float

    @property
    def won(self) -> bool:
        return self.outcome is self.winner


@dataclass
class Totals:
    cash: float
    realized_pnl: float = 0.0
    fees: float = 0.0
    trades: int = 0
    wins: int = 0
    orders: int = 0
    fills: int = 0


class PositionManager:
    def __init__(self, starting_cash: float, history_size: int = 200) -> None:
        self.totals = Totals(cash=starting_cash)
        self.orders: dict[str, OrderRecord] = {}
        self.positions: dict[tuple[str, str], Position] = {}
        self.history: deque[ClosedTrade] = deque(maxlen=history_size)
        self._applied_fills: set[str] = set()
        self._order_counts: dict[tuple[str, str], int] = {}
        self._open_by_slot: dict[str, set[str]] = {}  # index: slot -> client ids not yet final

    # -- orders -------------------------------------------------------------

    def next_client_id(self, slot_id: str, slug: str) -> str:
        """Deterministic: the same decisions give the same ids, so a retry is never a duplicate."""
        key = (slot_id, slug)
        n = self._order_counts.get(key, 0) + 1
        self._order_counts[key] = n
        return f"{slot_id}.{slug.rsplit('-', 1)[-1]}.{n}"

    def order_sent(self, order: OrderRequest, asset: str, timeframe: str) -> None:
        self.orders[order.client_id] = OrderRecord(order)
        self._open_by_slot.setdefault(order.slot_id, set()).add(order.client_id)
        self.totals.orders += 1
        self._position(order.slot_id, order.slug, asset, timeframe)

    def on_order_update(self, update: OrderUpdate) -> None:
        record = self.orders.get(update.client_id)
        if record is None:
            return
        record.status = update.status
        record.filled = max(record.filled, update.filled)
        record.reason = update.reason or record.reason
        if update.status.is_final:
            self._open_by_slot.get(record.request.slot_id, set()).discard(update.client_id)

    def in_flight(self, slot_id: str) -> bool:
        return bool(self._open_by_slot.get(slot_id))

    def busy_slots(self) -> set[str]:
        return {slot for slot, ids in self._open_by_slot.items() if ids}

    def open_orders(self, slot_id: str | None = None) -> list[OrderRecord]:
        if slot_id is not None:
            return [self.orders[c] for c in self._open_by_slot.get(slot_id, ())]
        return [r for r in self.orders.values() if not r.status.is_final]

    def fired(self, slot_id: str, slug: str) -> bool:
        return self._order_counts.get((slot_id, slug), 0) > 0

    # -- fills and settlement ---------------------------------------------

    def on_fill(self, fill: Fill, asset: str, timeframe: str) -> bool:
        """Apply a fill once; False if this fill id was already applied."""
        if fill.fill_id in self._applied_fills:
            return False
        self._applied_fills.add(fill.fill_id)
        record = self.orders.get(fill.client_id)
        slot_id = record.request.slot_id if record else ""
        pos = self._position(slot_id, fill.slug, asset, timeframe)
        signed = fill.size if fill.side is Side.BUY else -fill.size
        if fill.outcome is Outcome.UP:
            pos.up_shares += signed
        else:
            pos.down_shares += signed
        notional = fill.price * fill.size
        pos.cost += notional if fill.side is Side.BUY else -notional
        pos.fees += fill.fee
        self.totals.cash -= (notional if fill.side is Side.BUY else -notional) + fill.fee
        self.totals.fees += fill.fee
        self.totals.fills += 1
        return True

    def on_resolution(self, res: Resolution) -> list[ClosedTrade]:
        closed: list[ClosedTrade] = []
        for key in [k for k in self.positions if k[1] == res.slug]:
            pos = self.positions.pop(key)
            if pos.up_shares == 0 and pos.down_shares == 0 and pos.cost == 0:
                continue
            payout = pos.shares(res.winner)
            held = Outcome.UP if pos.up_shares >= pos.down_shares else Outcome.DOWN
            trade = ClosedTrade(pos.slot_id, pos.slug, pos.asset, pos.timeframe, held, res.winner,
                                max(pos.up_shares, pos.down_shares), round(pos.cost, 6), round(pos.fees, 6),
                                payout, round(payout - pos.cost - pos.fees, 6), res.ts)
            self.totals.cash += payout
            self.totals.realized_pnl += trade.pnl
            self.totals.trades += 1
            self.totals.wins += trade.won
            self.history.append(trade)
            closed.append(trade)
        for cid in [c for c, r in self.orders.items() if r.request.slug == res.slug and r.status.is_final]:
            del self.orders[cid]
        return closed

    # -- exposure -------------------------------------------------------------

    def exposure_window(self, slug: str) -> float:
        return sum(p.cost for k, p in self.positions.items() if k[1] == slug) + sum(
            r.open_notional for r in self.orders.values() if r.request.slug == slug)

    def exposure_asset(self, asset: str) -> float:
        slugs = {p.slug for p in self.positions.values() if p.asset == asset}
        return sum(self.exposure_window(s) for s in slugs)

    def exposure_total(self) -> float:
        return sum(p.cost for p in self.positions.values()) + sum(r.open_notional for r in self.orders.values())

    def position(self, slot_id: str, slug: str) -> Position | None:
        return self.positions.get((slot_id, slug))

    def _position(self, slot_id: str, slug: str, asset: str, timeframe: str) -> Position:
        key = (slot_id, slug)
        pos = self.positions.get(key)
        if pos is None:
            pos = self.positions[key] = Position(slot_id, slug, asset, timeframe)
        return pos


@dataclass
class DailyLoss:
    """Realised P&L of the current UTC day, for the max-daily-loss breaker."""

    day: int = -1
    start_pnl: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def loss(self, now: float, realized_pnl: float) -> float:
        day = int(now // 86400)
        if day != self.day:
            self.day, self.start_pnl = day, realized_pnl
        return max(0.0, self.start_pnl - realized_pnl)
