"""The live order state machine, on the engine thread: venue messages in, base events out.

An order is PENDING until the POST is answered (LIVE, or DELAYED while the venue's taker delay
runs), then follows the user channel. A trade counts as a fill once it settles (MINED or
CONFIRMED): MATCHED can still end FAILED, and a fill once applied is never taken back. An order
becomes final (FILLED / CANCELLED / EXPIRED) only when the venue says it is done *and* every
share it matched has settled or failed, so a Fill never follows its order's final update.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from nonstop.markets import MarketInfo, taker_fee
from nonstop.venues.base import Event, Fill, OpenOrderView, OrderRequest, OrderStatus, OrderUpdate, Side

_EPS = 1e-6
_SETTLED = ("MINED", "CONFIRMED")
_PENDING_TRADE = ("MATCHED", "RETRYING", "MATCHED_NOT_BROADCASTED")
_POST_STATUS = {"live": "LIVE", "delayed": "DELAYED", "matched": "MATCHED", "unmatched": "LIVE"}


@dataclass
class Tracked:
    req: OrderRequest
    info: MarketInfo | None
    order_id: str = ""
    venue: str = ""  # the venue's status: LIVE, DELAYED, MATCHED, CANCELED...
    venue_matched: float = 0.0
    venue_size: float = 0.0  # the venue's original size (a market BUY's shares come from its USD amount)
    trades: dict[str, tuple[float, str]] = field(default_factory=dict)  # fill id -> (shares, trade status)
    emitted: tuple[OrderStatus, float] = (OrderStatus.PENDING, 0.0)
    rejected: str = ""
    cancel_wanted: bool = False
    cancel_asked: bool = False
    expired: bool = False
    reason: str = ""

    @property
    def final(self) -> bool:
        return self.emitted[0].is_final

    def settled(self) -> float:
        return sum(q for q, s in self.trades.values() if s in _SETTLED)


Leg = tuple[str, str, float, float, str, bool, str]  # order id, fill id, shares, price, side, maker, token


def legs(p: Any, mine: Callable[[str], bool]) -> list[Leg]:
    """Our legs of a trade (user channel or REST): the taker's, or each of our maker orders in it."""
    if str(p.trader_side or "TAKER").upper() == "TAKER":
        oid = str(p.taker_order_id)
        return [(oid, f"{p.id}:{oid}", float(p.size), float(p.price), str(p.side), False, str(p.asset_id))] \
            if mine(oid) else []
    return [(m.order_id, f"{p.id}:{m.order_id}", float(m.matched_amount), float(m.price), str(m.side), True,
             str(m.asset_id)) for m in p.maker_orders or () if mine(m.order_id)]


class Tracker:
    def __init__(self) -> None:
        self.orders: dict[str, Tracked] = {}
        self.by_oid: dict[str, str] = {}
        self.heartbeat_lost_at: float | None = None
        self.out: list[Event] = []
        self.to_cancel: list[tuple[str, str]] = []  # (client id, order id) the venue must be asked to cancel

    # -- from the engine -----------------------------------------------------------------

    def add(self, req: OrderRequest, info: MarketInfo | None) -> Tracked:
        t = self.orders.get(req.client_id)
        if t is None:
            t = self.orders[req.client_id] = Tracked(req, info)
        return t

    def cancel(self, client_id: str) -> None:
        t = self.orders.get(client_id)
        if t is None or t.final:
            return
        t.cancel_asked = True
        if t.order_id and t.venue == "LIVE":
            self.to_cancel.append((client_id, t.order_id))
        else:  # not posted yet, or in the taker delay: cancel as soon as the venue allows
            t.cancel_wanted = True

    def expire_due(self, now: float) -> None:
        """GTDs too short for the venue's GTD minimum were sent as GTC: cancel them on time."""
        for t in self.orders.values():
            if (not t.final and not t.expired and t.req.expires_at is not None and now >= t.req.expires_at):
                t.expired = True
                self.cancel(t.req.client_id)

    # -- from the venue ---------------------------------------------------------------------

    def signed(self, client_id: str, oid: str, now: float) -> None:
        t = self.orders.get(client_id)
        if t is None or t.order_id == oid:
            return
        t.order_id = oid
        self.by_oid[oid] = client_id
        self.out.append(OrderUpdate(client_id, OrderStatus.PENDING, now, "signed and sent", oid))

    def placed(self, client_id: str, oid: str, result: tuple[str, str, tuple[str, ...]], now: float) -> None:
        t = self.orders.get(client_id)
        if t is None:
            return
        kind, detail, _ = result
        if kind == "rejected":
            t.rejected = detail or "rejected by the venue"
        else:
            t.venue = t.venue if t.venue in ("MATCHED", "CANCELED") else _POST_STATUS.get(detail, detail.upper())
        self._update(t, now)

    def cancelled(self, done: list[str], refused: dict[str, str], now: float) -> None:
        for oid in done:
            t = self._by(oid)
            if t is not None and t.venue in ("LIVE", "DELAYED", ""):
                t.venue = "CANCELED"
                self._update(t, now)
        for oid, why in refused.items():
            t = self._by(oid)
            if t is not None and "delayed" in why.lower():
                t.cancel_wanted = True  # retried when the delay is over and the rest is live

    def user_order(self, p: Any, now: float) -> None:
        t = self._by(p.id)
        if t is None:
            return
        status = str(p.status or "").upper()
        if p.order_event_type == "CANCELLATION" or status.startswith("CANCELED"):
            status = "CANCELED"
        if status:
            t.venue = status if t.venue not in ("CANCELED",) else t.venue
        t.venue_matched = max(t.venue_matched, float(p.size_matched))
        t.venue_size = float(p.original_size)
        self._update(t, now)

    def trade(self, p: Any, now: float) -> None:
        """A trade from the user channel or GET /data/trades: our legs of it, by order id."""
        status = str(p.status).upper()
        ts = p.matched_at.timestamp() if getattr(p, "matched_at", None) is not None else now
        for oid, fill_id, shares, price, side, maker, _ in legs(p, lambda oid: oid in self.by_oid):
            t = self._by(oid)
            if t is None:
                continue
            before = t.trades.get(fill_id, (shares, ""))[1]
            if before in _SETTLED or before == "FAILED":
                continue  # settled fills are final; FAILED is terminal
            t.trades[fill_id] = (shares, status)
            if status in _SETTLED:
                info = t.info
                fee = 0.0 if maker else (taker_fee(shares, price, info.fee_rate, info.fee_exponent) if info
                                         else taker_fee(shares, price))
                self.out.append(Fill(fill_id, t.req.client_id, t.req.slug, t.req.token_id, t.req.outcome, Side(side),
                                     price, shares, fee, ts, maker))
            elif status == "FAILED":
                t.reason = f"trade {p.id} FAILED on chain: {shares:g} shares matched but not filled"
            self._update(t, now)

    def reconciled(self, orders: dict[str, Any], trades: list[Any], now: float) -> None:
        for tr in trades:
            self.trade(tr, now)
        for oid, order in orders.items():
            t = self._by(oid)
            if t is None:
                continue
            if order is None:
                if t.venue == "" and not t.rejected:
                    continue  # still being posted
                t.venue = "CANCELED"
            else:
                t.venue = "CANCELED" if order.status.upper().startswith("CANCELED") else order.status.upper()
                t.venue_matched = max(t.venue_matched, float(order.size_matched))
                t.venue_size = float(order.original_size)
            self._update(t, now)

    def adopt(self, req: OrderRequest, info: MarketInfo | None, oid: str, order: Any,
              trades: list[tuple[str, float, str]], now: float) -> OrderUpdate:
        """Take over an order of an earlier run (recovery) silently; returns its state for the reconciler."""
        t = self.add(req, info)
        t.order_id = oid
        self.by_oid[oid] = req.client_id
        if order is not None:
            t.venue = "CANCELED" if order.status.upper().startswith("CANCELED") else order.status.upper()
            t.venue_matched = float(order.size_matched)
            t.venue_size = float(order.original_size)
        for fill_id, shares, status in trades:
            t.trades[fill_id] = (shares, status)
        mark = len(self.out)
        self._update(t, now)
        produced = [e for e in self.out[mark:] if isinstance(e, OrderUpdate)]
        del self.out[mark:]
        reason = produced[-1].reason if produced else ""
        return OrderUpdate(req.client_id, t.emitted[0], now, reason or "reconciled after restart", oid, t.emitted[1])

    def heartbeat(self, state: str, now: float) -> None:
        """"failing" / "lost" / "ok": while failing, a cancel we did not ask for is the dead-man switch."""
        if state == "ok":
            self.heartbeat_lost_at = None
        elif self.heartbeat_lost_at is None:
            self.heartbeat_lost_at = now

    # -- views -------------------------------------------------------------------------------

    def open_ids(self) -> list[str]:
        return [t.order_id for t in self.orders.values() if t.order_id and not t.final]

    def view(self, t: Tracked) -> OpenOrderView:
        return OpenOrderView(t.req.client_id, t.emitted[0], t.emitted[1], t.req.size)

    def _by(self, oid: str) -> Tracked | None:
        cid = self.by_oid.get(oid)
        return self.orders.get(cid) if cid else None

    def _update(self, t: Tracked, now: float) -> None:
        """Derive the status from what the venue said and which trades settled; emit on change."""
        if t.final:
            return
        settled = t.settled()
        failed = sum(q for q, s in t.trades.values() if s == "FAILED")
        pending = sum(q for q, s in t.trades.values() if s in _PENDING_TRADE)
        reason = t.reason
        if t.rejected:
            status, reason = OrderStatus.REJECTED, t.rejected
        elif settled >= (t.venue_size or t.req.size) - _EPS:
            status = OrderStatus.FILLED
        elif t.venue in ("MATCHED", "CANCELED") and pending < _EPS and t.venue_matched - settled - failed < _EPS:
            status = OrderStatus.EXPIRED if t.expired else OrderStatus.CANCELLED
            unasked = t.venue == "CANCELED" and not t.cancel_asked
            if self.heartbeat_lost_at is not None and unasked and not reason:
                reason = "cancelled by the venue: the CLOB heartbeat was lost (dead-man switch)"
            reason = reason or ("expired" if t.expired else "cancelled" if t.cancel_asked
                                else "cancelled at the venue" if t.venue == "CANCELED"
                                else "matched part settled; the rest was not filled")
        elif settled > _EPS:
            status = OrderStatus.PARTIAL
        elif t.venue == "DELAYED":
            status = OrderStatus.DELAYED
        elif t.venue in ("LIVE", "MATCHED", "CANCELED"):
            status = OrderStatus.LIVE
        else:
            status = OrderStatus.PENDING
        if t.cancel_wanted and t.venue == "LIVE" and not status.is_final:
            t.cancel_wanted = False
            self.to_cancel.append((t.req.client_id, t.order_id))
        if (status, round(settled, 6)) != (t.emitted[0], round(t.emitted[1], 6)):
            t.emitted = (status, settled)
            self.out.append(OrderUpdate(t.req.client_id, status, now, reason if status.is_final else "",
                                        t.order_id, settled))

    def drain(self) -> list[Event]:
        out, self.out = self.out, []
        return out
