"""Builds the status.json document from the owners' state (schema: nonstop.status.model)."""

from __future__ import annotations

from typing import Any

from nonstop.status.model import STATUS_SCHEMA_VERSION


def build_status(engine: Any) -> dict[str, Any]:
    pm = engine.positions
    now = engine.clock.now()
    totals = pm.totals
    open_value = sum(p.cost for p in pm.positions.values())
    slots = []
    for rt in engine.slots:
        cfg, m = rt.config, rt.market
        slots.append({
            "id": cfg.id, "strategy": f"{cfg.module}.{cfg.class_name}", "asset": cfg.asset,
            "timeframe": cfg.timeframe, "enabled": rt.enabled,
            "window": m.slug if m else None, "seconds_left": round(m.end - now, 3) if m else None,
            "price_to_beat": m.price_to_beat if m else None,
            "armed": bool(m and m.slug in rt.armed), "fired": bool(m and pm.fired(cfg.id, m.slug)),
            "last_decision": rt.last_decision, "generation": engine.registry.generation(cfg.module),
            "errors": rt.errors})
    positions = [{
        "slot": p.slot_id, "window": p.slug, "asset": p.asset, "timeframe": p.timeframe,
        "up_shares": round(p.up_shares, 4), "down_shares": round(p.down_shares, 4), "cost": round(p.cost, 4),
        "fees": round(p.fees, 5), "open_orders": len([r for r in pm.open_orders(p.slot_id) if r.request.slug == p.slug])}
        for p in pm.positions.values() if p.up_shares or p.down_shares or p.cost]
    trades = [{
        "slot": t.slot_id, "window": t.slug, "asset": t.asset, "timeframe": t.timeframe,
        "outcome": t.outcome.value, "winner": t.winner.value, "shares": t.shares, "cost": t.cost, "fees": t.fees,
        "payout": t.payout, "pnl": t.pnl, "closed_at": t.closed_at} for t in list(pm.history)[-50:]]
    ctl = engine.control
    extra: dict[str, Any] = {"started_at": engine.started_at, "strategy_ms": round(engine.timing.strategy_ms, 3),
                             "events": engine.data.events}
    extra.update(getattr(engine, "extra_status", {}))
    return {
        "schema_version": STATUS_SCHEMA_VERSION,
        "venue": engine.venue.name,
        "heartbeat": {"wall": engine.clock.wall(), "venue": now, "cycle": engine.cycle,
                      "cycle_ms": round(engine.timing.total_ms, 3),
                      "status_ms": round(engine.timing.status_ms, 3), "period_s": engine.period, "pid": engine.pid},
        "control": {"applied_revision": ctl.applied_revision, "mode": engine.mode.value,
                    "halt_reason": engine.self_halt, "refused": ctl.refused.as_dict() if ctl.refused else None},
        "totals": {"cash": round(totals.cash, 4), "equity": round(totals.cash + open_value, 4),
                   "realized_pnl": round(totals.realized_pnl, 4), "fees": round(totals.fees, 5),
                   "trades": totals.trades, "wins": totals.wins, "orders": totals.orders, "fills": totals.fills,
                   "daily_pnl": round(totals.realized_pnl - engine.daily.start_pnl, 4)},
        "slots": slots,
        "positions": positions,
        "recent_trades": trades,
        "strategies": engine.registry.status(),
        "rate_limits": getattr(engine, "rate_limit_status", lambda: {})(),
        "errors": list(engine.errors.recent),
        "pnl_curve": list(engine.pnl_curve),
        "extra": extra,
    }
