"""Market discovery, pure: which slugs to look up, and Gamma / CLOB JSON -> MarketInfo.

Gamma's `/events/slug/{slug}` gives the outcomes and `clobTokenIds` (JSON strings, in the same
order), the price to beat (`eventMetadata.priceToBeat`, possibly only after the window) and the
TWAP settings (`cryptoMarketConfig`); the CLOB's `/clob-markets/{condition_id}` gives the tick
size, neg-risk flag and fee rate/exponent. polymarket-client's typed Market drops
`cryptoMarketConfig` and `eventStartTime`, so these two reads are made on the raw JSON.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nonstop.markets import TIMEFRAMES, MarketInfo, Outcome, parse_slug, window_slug, window_start


@dataclass(frozen=True, slots=True)
class Discovered:
    info: MarketInfo
    condition_id: str
    closed: bool
    resolved: Outcome | None  # set once Gamma agrees it is resolved
    final_value: float | None


def wanted_slugs(pairs: list[tuple[str, str]], now: float) -> list[str]:
    """The current and next window of each (asset, timeframe)."""
    out = []
    for asset, tf in pairs:
        start = window_start(now, tf)
        out += [window_slug(asset, tf, start), window_slug(asset, tf, start + TIMEFRAMES[tf])]
    return out


def _json_list(raw: Any) -> list[Any]:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return []
    return list(raw) if isinstance(raw, list) else []


def _ts(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _num(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def parse_event(event: dict[str, Any]) -> tuple[MarketInfo, str, bool, Outcome | None, float | None]:
    """(info without CLOB details, condition id, closed, winner if resolved, final value)."""
    slug = str(event.get("slug") or "")
    asset, tf, start = parse_slug(slug)
    markets = [m for m in event.get("markets") or [] if isinstance(m, dict)]
    if not markets:
        raise ValueError(f"event {slug} has no market")
    m = markets[0]
    outcomes = [str(o) for o in _json_list(m.get("outcomes"))]
    tokens = [str(t) for t in _json_list(m.get("clobTokenIds"))]
    if len(outcomes) != 2 or len(tokens) != 2 or {o.lower() for o in outcomes} != {"up", "down"}:
        raise ValueError(f"event {slug}: expected Up/Down outcomes with two clobTokenIds")
    by_label = {o.lower(): t for o, t in zip(outcomes, tokens)}  # map by label, never by position
    meta = event.get("eventMetadata") or {}
    cfg = m.get("cryptoMarketConfig") or {}
    twap = int(cfg.get("twapLookbackSeconds") or 0) if cfg.get("twapEnabled") else 0
    start_t = _ts(m.get("eventStartTime")) or float(start)
    end_t = _ts(m.get("endDate")) or start_t + TIMEFRAMES[tf]
    fee = m.get("feeSchedule") or {}
    rate = _num(fee.get("rate"))
    info = MarketInfo(slug=slug, asset=asset, timeframe=tf, start=int(start_t), end=int(end_t),
                      up_token=by_label["up"], down_token=by_label["down"],
                      tick_size=_num(m.get("orderPriceMinTickSize")) or 0.01,
                      min_size=_num(m.get("orderMinSize")) or 5.0,
                      fee_rate=rate if rate is not None else 0.07,
                      fee_exponent=_num(fee.get("exponent")) or 1.0, twap_lookback_s=twap,
                      price_to_beat=_num(meta.get("priceToBeat")), neg_risk=bool(m.get("negRisk")))
    closed = bool(m.get("closed")) or not bool(m.get("acceptingOrders", True))
    winner = None
    prices = [_num(p) for p in _json_list(m.get("outcomePrices"))]
    resolved = bool(m.get("closed")) and str(m.get("umaResolutionStatus") or "").lower() == "resolved"
    if resolved and len(prices) == 2 and sorted(prices, key=lambda p: p or 0.0) == [0.0, 1.0]:
        won_label = outcomes[prices.index(1.0)].lower()
        winner = Outcome.UP if won_label == "up" else Outcome.DOWN
    return info, str(m.get("conditionId") or ""), closed, winner, _num(meta.get("finalPrice"))


def apply_clob_market(info: MarketInfo, compact: dict[str, Any]) -> MarketInfo:
    """Tick, neg-risk and fee parameters from GET /clob-markets/{condition_id}."""
    fd = compact.get("fd") or {}
    changes: dict[str, Any] = {}
    tick = _num(compact.get("mts"))
    if tick:
        changes["tick_size"] = tick
    mos = _num(compact.get("mos"))
    if mos:
        changes["min_size"] = mos
    if _num(fd.get("r")) is not None:
        changes["fee_rate"] = _num(fd.get("r"))
    if _num(fd.get("e")):
        changes["fee_exponent"] = _num(fd.get("e"))
    changes["neg_risk"] = bool(compact.get("nr", False))
    return dataclasses.replace(info, **changes)


def discovered(event: dict[str, Any], compact: dict[str, Any] | None) -> Discovered:
    info, cid, closed, winner, final = parse_event(event)
    if compact is not None:
        info = apply_clob_market(info, compact)
    return Discovered(info, cid, closed, winner, final)
