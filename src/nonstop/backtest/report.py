"""report.json: what a backtest run did, from the engine's own owners (positions, journal, venue)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from nonstop.backtest.spec import RunSpec
from nonstop.backtest.stats import by_seconds_left, calibration, group, summarize
from nonstop.markets import TIMEFRAMES, parse_slug
from nonstop.venues.base import Event, Fill, OrderRequest, OrderUpdate

REPORT_VERSION = 1


class RecordingJournal:
    """Wraps the engine's journal and keeps what a report needs: every order sent, fill and final status."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.orders: dict[str, dict[str, Any]] = {}
        self.fills: list[dict[str, Any]] = []

    def order_intent(self, order: OrderRequest, now: float) -> None:
        self.inner.order_intent(order, now)
        self.orders[order.client_id] = {
            "client_id": order.client_id, "slot": order.slot_id, "window": order.slug,
            "outcome": order.outcome.value, "side": order.side.value, "price": order.price, "size": order.size,
            "type": order.order_type.value, "sent_at": now, "status": "PENDING", "filled": 0.0, "reason": ""}

    def trading_event(self, event: Event) -> bool:
        fresh = self.inner.trading_event(event)
        if fresh and isinstance(event, Fill):
            self.fills.append({"client_id": event.client_id, "price": event.price, "size": event.size,
                               "fee": event.fee, "ts": event.ts, "maker": event.maker})
            order = self.orders.get(event.client_id)
            if order is not None:
                order["filled"] = round(order["filled"] + event.size, 6)
        elif fresh and isinstance(event, OrderUpdate):
            order = self.orders.get(event.client_id)
            if order is not None:
                order["status"] = event.status.value
                order["reason"] = event.reason or order["reason"]
        return bool(fresh)

    def __getattr__(self, name: str) -> Any:  # the rest of the journal API goes straight through
        return getattr(self.inner, name)


def trade_rows(history: list[Any], journal: RecordingJournal, strategies: dict[str, str]) -> list[dict[str, Any]]:
    first_fill: dict[tuple[str, str], float] = {}
    for fill in journal.fills:
        order = journal.orders.get(fill["client_id"])
        if order is not None:
            key = (order["slot"], order["window"])
            first_fill[key] = min(first_fill.get(key, fill["ts"]), fill["ts"])
    rows = []
    for t in history:
        _, _, start = parse_slug(t.slug)
        end = start + TIMEFRAMES[t.timeframe]
        entered = first_fill.get((t.slot_id, t.slug))
        shares = t.shares or 0.0
        rows.append({
            "slot": t.slot_id, "strategy": strategies.get(t.slot_id, ""), "window": t.slug, "asset": t.asset,
            "timeframe": t.timeframe, "outcome": t.outcome.value, "winner": t.winner.value, "won": t.won,
            "shares": shares, "cost": t.cost, "fees": t.fees, "payout": t.payout, "pnl": t.pnl,
            "entry_price": t.cost / shares if shares else 0.0,
            "break_even": (t.cost + t.fees) / shares if shares else 1.0,
            "entered_at": entered, "seconds_left": round(end - entered, 3) if entered is not None else None,
            "closed_at": t.closed_at})
    rows.sort(key=lambda r: (r["closed_at"], r["slot"]))
    return rows


def build_report(spec: RunSpec, engine: Any, journal: RecordingJournal, wall_s: float,
                 strategies: dict[str, str]) -> dict[str, Any]:
    trades = trade_rows(list(engine.positions.history), journal, strategies)
    orders = list(journal.orders.values())
    filled = [o for o in orders if o["filled"] > 0]
    ordered_shares = sum(o["size"] for o in orders)
    # why orders got nothing, with the numbers taken out so alike reasons count together
    reasons = Counter(re.sub(r"\d+(?:\.\d+)?", "N", o["reason"].split(";")[0])[:80]
                      for o in orders if o["filled"] == 0 and o["reason"])
    cumulative, curve = 0.0, []
    for row in trades:
        cumulative += row["pnl"]
        curve.append([row["closed_at"], round(cumulative, 6)])
    open_positions = [p for p in engine.positions.positions.values() if p.up_shares or p.down_shares]
    venue = engine.venue
    venue_s = engine.clock.now() - engine.started_at
    events = getattr(venue, "events", None) or engine.data.events
    return {
        "report_version": REPORT_VERSION,
        "run": {
            "label": spec.label, "params": spec.params, "slot_params": spec.slot_params, "home": spec.home,
            "source": spec.source.describe(), "venue": venue.name, "strategies": strategies,
            "venue_start": engine.started_at, "venue_end": engine.clock.now(), "venue_days": venue_s / 86400,
            "cycles": engine.cycle, "events": events, "wall_s": round(wall_s, 3),
            "events_per_s": round(events / wall_s, 1) if wall_s > 0 else None,
            "engine_errors": engine.errors.count, "halted": engine.self_halt},
        "summary": summarize(trades),
        "orders": {"sent": len(orders), "filled": len(filled),
                   "fill_rate": len(filled) / len(orders) if orders else None,
                   "shares_ordered": ordered_shares, "shares_filled": sum(o["filled"] for o in orders),
                   "share_fill_rate": sum(o["filled"] for o in orders) / ordered_shares if ordered_shares else None,
                   "unfilled_reasons": dict(reasons.most_common(8))},
        "unsettled": {"positions": len(open_positions), "cost": sum(p.cost for p in open_positions)},
        "by_strategy": group(trades, lambda t: t["strategy"]),
        "by_asset": group(trades, lambda t: t["asset"]),
        "by_timeframe": group(trades, lambda t: t["timeframe"]),
        "by_asset_timeframe": group(trades, lambda t: f"{t['asset']} {t['timeframe']}"),
        "by_slot": group(trades, lambda t: t["slot"]),
        "calibration": calibration(trades),
        "by_seconds_left": by_seconds_left(trades),
        "equity_curve": curve,
        "trades": trades,
    }
