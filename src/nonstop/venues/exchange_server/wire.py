"""JSON shapes of Polymarket's Gamma, CLOB REST and WebSocket messages, built from sim objects.

Shapes follow ../shared/reference/polymarket-protocol.md and, where they differ, what
polymarket-client 0.14 parses (its models are the final word): string-encoded arrays in Gamma,
prices and sizes as strings on the CLOB, bids ascending / asks descending in books, ms-string
timestamps on the market channel, `event_type` on every socket message.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from nonstop.markets import MarketInfo
from nonstop.venues.base import Book, Level


def num(x: float) -> str:
    """A decimal string without float noise: 0.52 -> "0.52", 5.0 -> "5"."""
    text = f"{x:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def ms(t: float) -> str:
    return str(int(round(t * 1000)))


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition_id(slug: str) -> str:
    return "0x" + hashlib.sha256(f"condition|{slug}".encode()).hexdigest()


def numeric_id(slug: str, kind: str) -> str:
    return str(int.from_bytes(hashlib.sha256(f"{kind}|{slug}".encode()).digest()[:4], "big"))


_NAMES = {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "XRP": "XRP", "DOGE": "Dogecoin", "BNB": "BNB"}


def gamma_market(info: MarketInfo, listed_at: float, resolved: tuple[str, float] | None, closed: bool) -> dict[str, Any]:
    """A Gamma market; `resolved` is (winning outcome, final value) once published."""
    prices = ["0.5", "0.5"]
    if resolved is not None:
        prices = ["1", "0"] if resolved[0] == "Up" else ["0", "1"]
    title = f"{_NAMES.get(info.asset, info.asset)} Up or Down - {iso(info.start)}"
    return {
        "id": numeric_id(info.slug, "market"), "slug": info.slug, "question": title,
        "conditionId": condition_id(info.slug), "questionID": "0x" + hashlib.sha256(info.slug.encode()).hexdigest(),
        "outcomes": json.dumps(["Up", "Down"]), "outcomePrices": json.dumps(prices),
        "clobTokenIds": json.dumps([info.up_token, info.down_token]),
        "eventStartTime": iso(info.start), "endDate": iso(info.end), "startDate": iso(listed_at),
        "active": True, "closed": closed or resolved is not None, "archived": False,
        "acceptingOrders": not closed and resolved is None, "enableOrderBook": True,
        "acceptingOrdersTimestamp": iso(listed_at),
        "orderPriceMinTickSize": info.tick_size, "orderMinSize": info.min_size, "negRisk": info.neg_risk,
        "feesEnabled": True, "feeType": "crypto_fees_v2",
        "feeSchedule": {"exponent": info.fee_exponent, "rate": info.fee_rate, "takerOnly": True, "rebateRate": 0.2},
        "makerBaseFee": 1000, "takerBaseFee": 1000,
        "resolutionSource": f"https://data.chain.link/streams/{info.asset.lower()}-usd-twap-60s-streams",
        "cryptoMarketConfigId": f"{info.asset.lower()}-{info.timeframe}-twap-{info.twap_lookback_s}",
        "cryptoMarketConfig": {"id": f"{info.asset.lower()}-{info.timeframe}-twap-{info.twap_lookback_s}",
                               "asset": info.asset.lower(), "duration": info.timeframe,
                               "twapEnabled": info.twap_lookback_s > 0, "twapLookbackSeconds": info.twap_lookback_s},
        "umaResolutionStatus": "resolved" if resolved is not None else None,
        "closedTime": iso(info.end) if resolved is not None else None,
        "secondsDelay": 0, "clearBookOnStart": False,
    }


def gamma_event(info: MarketInfo, listed_at: float, resolved: tuple[str, float] | None, closed: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if info.price_to_beat is not None:
        meta["priceToBeat"] = info.price_to_beat
    if resolved is not None:
        meta["finalPrice"] = resolved[1]
    market = gamma_market(info, listed_at, resolved, closed)
    return {
        "id": numeric_id(info.slug, "event"), "ticker": info.slug, "slug": info.slug, "title": market["question"],
        "startDate": iso(listed_at), "endDate": iso(info.end), "startTime": iso(info.start),
        "seriesSlug": f"{info.asset.lower()}-up-or-down-{info.timeframe}",
        "active": True, "closed": market["closed"], "archived": False, "enableOrderBook": True, "negRisk": False,
        "eventMetadata": meta or None,
        "series": [{"id": numeric_id(info.asset + info.timeframe, "series"),
                    "slug": f"{info.asset.lower()}-up-or-down-{info.timeframe}", "recurrence": info.timeframe}],
        "markets": [market],
    }


def clob_market(info: MarketInfo, accepting: bool) -> dict[str, Any]:
    """GET /clob-markets/{condition_id}: the compact market info the SDK reads tick and fees from."""
    out: dict[str, Any] = {
        "c": condition_id(info.slug), "t": [{"t": info.up_token, "o": "Up"}, {"t": info.down_token, "o": "Down"}],
        "mts": info.tick_size, "mos": info.min_size, "fd": {"r": info.fee_rate, "e": info.fee_exponent, "to": True},
        "mbf": 1000, "tbf": 1000, "r": None, "ao": accepting, "itode": True, "rfqe": False, "ibce": False, "oas": 0,
    }
    if info.neg_risk:
        out["nr"] = True
    return out


def book_json(book: Book, info: MarketInfo, last_trade: float | None) -> dict[str, Any]:
    """GET /book: bids ascending and asks descending (best level last), strings everywhere."""
    body: dict[str, Any] = {
        "market": condition_id(info.slug), "asset_id": book.token_id, "timestamp": ms(book.ts), "hash": "",
        "bids": [_level(lv) for lv in reversed(book.bids)], "asks": [_level(lv) for lv in reversed(book.asks)],
        "min_order_size": num(info.min_size), "tick_size": num(info.tick_size), "neg_risk": info.neg_risk,
        "last_trade_price": num(last_trade) if last_trade is not None else "",
    }
    body["hash"] = hashlib.sha1(json.dumps(body, separators=(",", ":")).encode()).hexdigest()
    return body


def _level(lv: Level) -> dict[str, str]:
    return {"price": num(lv.price), "size": num(lv.size)}


def ws_book(book: Book, info: MarketInfo, last_trade: float | None) -> dict[str, Any]:
    return {"event_type": "book", **book_json(book, info, last_trade)}


def ws_price_change(info: MarketInfo, t: float, changes: list[dict[str, str]]) -> dict[str, Any]:
    return {"event_type": "price_change", "market": condition_id(info.slug), "timestamp": ms(t), "price_changes": changes}


def price_change_item(token: str, price: float, size: float, side: str, book: Book) -> dict[str, str]:
    return {"asset_id": token, "price": num(price), "size": num(size), "side": side, "hash": "",
            "best_bid": num(book.best_bid) if book.best_bid is not None else "0",
            "best_ask": num(book.best_ask) if book.best_ask is not None else "1"}


def ws_last_trade(info: MarketInfo, token: str, price: float, size: float, side: str, t: float) -> dict[str, Any]:
    return {"event_type": "last_trade_price", "asset_id": token, "market": condition_id(info.slug),
            "price": num(price), "side": side, "size": num(size), "fee_rate_bps": "0", "timestamp": ms(t)}


def ws_best_bid_ask(info: MarketInfo, book: Book, t: float) -> dict[str, Any]:
    return {"event_type": "best_bid_ask", "market": condition_id(info.slug), "asset_id": book.token_id,
            "best_bid": num(book.best_bid or 0.0), "best_ask": num(book.best_ask or 1.0),
            "spread": num(book.spread or 0.0), "timestamp": ms(t)}


def ws_tick_size_change(info: MarketInfo, token: str, old: float, new: float, t: float) -> dict[str, Any]:
    return {"event_type": "tick_size_change", "asset_id": token, "market": condition_id(info.slug),
            "old_tick_size": num(old), "new_tick_size": num(new), "timestamp": ms(t)}


def ws_new_market(info: MarketInfo, t: float, winner: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "event_type": "market_resolved" if winner else "new_market", "id": numeric_id(info.slug, "market"),
        "question": gamma_market(info, t, None, False)["question"], "market": condition_id(info.slug),
        "slug": info.slug, "description": "", "assets_ids": [info.up_token, info.down_token],
        "outcomes": ["Up", "Down"], "timestamp": ms(t),
        "event_message": {"id": numeric_id(info.slug, "event"), "ticker": info.slug, "slug": info.slug,
                          "title": "", "description": ""},
    }
    if winner:
        msg["winning_asset_id"] = info.up_token if winner == "Up" else info.down_token
        msg["winning_outcome"] = winner
    return msg


def rtds(topic: str, symbol: str, value: float, obs_t: float, sent_t: float, window_s: int = 0) -> dict[str, Any]:
    payload: dict[str, Any] = {"symbol": symbol, "timestamp": int(round(obs_t * 1000)), "value": value}
    if topic != "crypto_prices":
        payload["full_accuracy_value"] = str(int(round(value * 10**8)) * 10**10)
    if window_s:
        payload["window_s"] = window_s
    return {"topic": topic, "type": "update", "timestamp": int(round(sent_t * 1000)), "payload": payload,
            "connection_id": "nonstop-sim"}


def binance_trade(asset: str, price: float, obs_t: float, sent_t: float) -> dict[str, Any]:
    """A Binance combined-stream trade message (the adapter's fallback spot feed)."""
    symbol = f"{asset.upper()}USDT"
    return {"stream": f"{asset.lower()}usdt@trade",
            "data": {"e": "trade", "E": int(sent_t * 1000), "s": symbol, "t": int(obs_t * 1000), "p": repr(price),
                     "q": "0.001", "T": int(obs_t * 1000), "m": False}}
