"""Gamma and CLOB V2 REST routes of the fake (the subset polymarket-client and the adapter call)."""

from __future__ import annotations

import base64
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from nonstop.venues.base import OrderRequest, OrderType, Side
from nonstop.venues.exchange_server import wire
from nonstop.venues.exchange_server.exchange import FakeExchange
from nonstop.venues.exchange_server.keys import ApiCreds, KeyStore, check_l2, l1_address
from nonstop.venues.exchange_server.records import OrderRec
from nonstop.venues.polymarket.order_hash import NEG_RISK_EXCHANGE, STANDARD_EXCHANGE, order_id, recover_signer

END = "LTE="
_PAGE = 500


def err(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def register(app: FastAPI, ex: FakeExchange, keys: KeyStore) -> None:
    async def auth(request: Request) -> ApiCreds | JSONResponse:
        body = (await request.body()).decode() or None
        got = check_l2(keys, dict(request.headers), request.method, request.url.path, body)
        return err(401, got) if isinstance(got, str) else got

    # -- public: health, time, markets ----------------------------------------------------
    @app.get("/")
    @app.get("/ok")
    async def ok() -> PlainTextResponse:
        return PlainTextResponse("OK")

    @app.get("/time")
    async def server_time() -> PlainTextResponse:
        return PlainTextResponse(str(int(ex.now())))

    @app.get("/version")
    async def version() -> dict[str, int]:
        return {"version": 2}

    def gamma(slug: str) -> Any:
        rec = ex.markets.get(slug)
        return None if rec is None else (rec.info, rec.listed_at, rec.resolved, ex.now() >= rec.info.end)

    @app.get("/events/slug/{slug}")
    async def event_by_slug(slug: str) -> Any:
        ex.step()
        got = gamma(slug)
        return err(404, "event not found") if got is None else wire.gamma_event(*got)

    @app.get("/events")
    async def events(request: Request) -> Any:
        ex.step()
        found = [gamma(s) for s in request.query_params.getlist("slug")]
        return [wire.gamma_event(*g) for g in found if g is not None]

    @app.get("/markets/slug/{slug}")
    async def market_by_slug(slug: str) -> Any:
        ex.step()
        got = gamma(slug)
        return err(404, "market not found") if got is None else wire.gamma_market(*got)

    @app.get("/clob-markets/{cid}")
    async def clob_market(cid: str) -> Any:
        rec = ex.by_cid.get(cid)
        if rec is None:
            return err(404, "market not found")
        return wire.clob_market(rec.info, accepting=rec.resolved is None and ex.now() < rec.info.end)

    @app.get("/markets-by-token/{token}")
    async def market_by_token(token: str) -> Any:
        rec = ex.by_token.get(token)
        if rec is None:
            return err(404, "market not found")
        return {"condition_id": wire.condition_id(rec.info.slug), "slug": rec.info.slug,
                "token_ids": [rec.info.up_token, rec.info.down_token]}

    @app.get("/tick-size")
    async def tick_size(token_id: str) -> Any:
        rec = ex.by_token.get(token_id)
        return err(404, "market not found") if rec is None else {"minimum_tick_size": rec.info.tick_size}

    @app.get("/neg-risk")
    async def neg_risk(token_id: str) -> Any:
        rec = ex.by_token.get(token_id)
        return err(404, "market not found") if rec is None else {"neg_risk": rec.info.neg_risk}

    def book_of(token: str) -> dict[str, Any] | None:
        rec, book = ex.by_token.get(token), ex.books.get(token)
        if rec is None or book is None:
            return None
        return wire.book_json(book, rec.info, ex.last_trade.get(token))

    @app.get("/book")
    async def book(token_id: str) -> Any:
        ex.step()
        got = book_of(token_id)
        return err(404, "No orderbook exists for the requested token id") if got is None else got

    @app.post("/books")
    async def books(request: Request) -> Any:
        ex.step()
        items = await request.json()
        if not isinstance(items, list) or len(items) > 500:
            return err(400, "Invalid payload")
        return [b for b in (book_of(str(i.get("token_id", ""))) for i in items) if b is not None]

    # -- auth ------------------------------------------------------------------------------
    @app.post("/auth/api-key")
    async def create_key(request: Request) -> Any:
        who = l1_address(dict(request.headers))
        if who is None:
            return err(401, "Invalid L1 Request headers")
        if keys.exists(*who):
            return err(400, "Could not create api key")
        c = keys.derive(*who)
        return {"apiKey": c.key, "secret": c.secret, "passphrase": c.passphrase}

    @app.get("/auth/derive-api-key")
    async def derive_key(request: Request) -> Any:
        who = l1_address(dict(request.headers))
        if who is None:
            return err(401, "Invalid L1 Request headers")
        c = keys.derive(*who)
        return {"apiKey": c.key, "secret": c.secret, "passphrase": c.passphrase}

    @app.get("/auth/api-keys")
    async def api_keys(request: Request) -> Any:
        c = await auth(request)
        return c if isinstance(c, JSONResponse) else {"apiKeys": keys.keys_of(c.address)}

    @app.get("/auth/ban-status/closed-only")
    async def closed_only(request: Request) -> Any:
        c = await auth(request)
        return c if isinstance(c, JSONResponse) else {"closed_only": False}

    # -- trading ---------------------------------------------------------------------------
    @app.post("/order")
    async def post_order(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        ex.step()
        status, body = place(ex, c, await request.json())
        return JSONResponse(body, status_code=status)

    @app.post("/orders")
    async def post_orders(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        items = await request.json()
        if not isinstance(items, list) or len(items) > 15:
            return err(400, f"Too many orders in payload: {len(items) if isinstance(items, list) else 0}, max allowed: 15")
        ex.step()
        out = []
        for item in items:
            status, body = place(ex, c, item)
            out.append(body if status == 200 else {"success": False, "errorMsg": body["error"], "orderID": "",
                                                   "status": "", "makingAmount": "", "takingAmount": ""})
        return out

    @app.delete("/order")
    async def cancel_one(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        done, refused = ex.cancel(c.key, [str((await request.json()).get("orderID", ""))])
        return {"canceled": done, "not_canceled": refused}

    @app.delete("/orders")
    async def cancel_many(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        done, refused = ex.cancel(c.key, [str(i) for i in await request.json()][:1000])
        return {"canceled": done, "not_canceled": refused}

    @app.delete("/cancel-all")
    async def cancel_all(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        done, refused = ex.cancel_all(c.key)
        return {"canceled": done, "not_canceled": refused}

    @app.delete("/cancel-market-orders")
    async def cancel_market(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        body = await request.json() if await request.body() else {}
        done, refused = ex.cancel_all(c.key, str(body.get("market", "")), str(body.get("asset_id", "")))
        return {"canceled": done, "not_canceled": refused}

    @app.post("/v1/heartbeats")
    async def heartbeat(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        if ex.heartbeats_ignored:
            return err(503, "heartbeat service unavailable (injected)")
        ok, hb = ex.heartbeat(c.key, str((await request.json()).get("heartbeat_id", "")))
        if not ok:
            return JSONResponse({"error_msg": "Invalid Heartbeat ID", "heartbeat_id": hb}, status_code=400)
        return {"heartbeat_id": hb}

    # -- account reads ---------------------------------------------------------------------------
    @app.get("/data/orders")
    async def open_orders(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        ex.step()
        q = request.query_params
        rows = [r.json() for r in ex.orders.values() if r.api_key == c.key and r.is_open
                and (not q.get("id") or r.id == q["id"]) and (not q.get("asset_id") or r.req.token_id == q["asset_id"])
                and (not q.get("market") or wire.condition_id(r.info.slug) == q["market"])]
        return page(rows, q.get("next_cursor"))

    @app.get("/data/order/{oid}")
    async def one_order(oid: str, request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        ex.step()
        rec = ex.orders.get(oid)
        return err(404, "order not found") if rec is None or rec.api_key != c.key else rec.json()

    @app.get("/data/trades")
    async def trades(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        ex.step()
        q = request.query_params
        after, before = float(q.get("after") or 0), float(q.get("before") or math.inf)
        rows = [t.json() for t in ex.trades.values() if t.api_key == c.key and after <= t.matched_at <= before
                and (not q.get("id") or t.id == q["id"]) and (not q.get("asset_id") or t.fill.token_id == q["asset_id"])
                and (not q.get("market") or wire.condition_id(t.info.slug) == q["market"])]
        return page(rows, q.get("next_cursor"))

    @app.get("/balance-allowance")
    async def balance(request: Request) -> Any:
        c = await auth(request)
        if isinstance(c, JSONResponse):
            return c
        acct = ex.account(c.key)
        q = request.query_params
        amount = acct.collateral if q.get("asset_type") == "COLLATERAL" else acct.tokens.get(q.get("token_id", ""), 0.0)
        unlimited = str(2**256 - 1)
        return {"balance": str(int(round(amount * 1e6))),
                "allowances": {STANDARD_EXCHANGE: unlimited, NEG_RISK_EXCHANGE: unlimited}}

    @app.get("/balance-allowance/update")
    async def balance_update(request: Request) -> Any:
        c = await auth(request)
        return c if isinstance(c, JSONResponse) else PlainTextResponse("")


def page(rows: list[dict[str, Any]], cursor: str | None) -> dict[str, Any]:
    start = 0
    if cursor and cursor != "MA==":
        start = int(base64.b64decode(cursor).decode())
    chunk = rows[start:start + _PAGE]
    nxt = start + _PAGE
    return {"limit": _PAGE, "count": len(chunk), "data": chunk,
            "next_cursor": base64.b64encode(str(nxt).encode()).decode() if nxt < len(rows) else END}


def place(ex: FakeExchange, creds: ApiCreds, body: Any) -> tuple[int, dict[str, Any]]:
    """Validate a POST /order body as the venue does, then hand it to the matching engine."""
    try:
        order, owner, wire_type = body["order"], str(body["owner"]), str(body["orderType"])
        oid = order_id(order)
        signer = recover_signer(order)
        maker_amount, taker_amount = int(order["makerAmount"]), int(order["takerAmount"])
        token, side, expiration = str(order["tokenId"]), Side(order["side"]), int(order.get("expiration") or 0)
    except (KeyError, TypeError, ValueError) as exc:
        return 400, {"error": f"Invalid order payload: {exc}"}
    if owner != creds.key:
        return 400, {"error": "the order owner has to be the owner of the API KEY"}
    if signer.lower() != str(order["signer"]).lower() or signer.lower() != creds.address:
        return 400, {"error": f"order {oid} is invalid. Invalid signature"}
    if oid in ex.orders:
        return 400, {"error": f"order {oid} is invalid. Duplicated."}
    rec_m = ex.by_token.get(token)
    if rec_m is None or wire_type not in ("GTC", "GTD", "FOK", "FAK") or min(maker_amount, taker_amount) <= 0:
        return 400, {"error": "Invalid order payload"}
    info = rec_m.info
    if side is Side.BUY:
        size, price = taker_amount / 1e6, maker_amount / taker_amount
    else:
        size, price = maker_amount / 1e6, taker_amount / maker_amount
    if wire_type in ("FOK", "FAK"):  # a market order's amounts encode its worst price; it may sit a hair off-tick
        price = round(round(price / info.tick_size) * info.tick_size, 6)
    else:
        price = round(price, 6)
    book = ex.books.get(token)
    if body.get("postOnly") and book is not None and (
            (side is Side.BUY and book.best_ask is not None and price >= book.best_ask)
            or (side is Side.SELL and book.best_bid is not None and price <= book.best_bid)):
        return 400, {"error": "invalid post-only order: order crosses book"}
    acct = ex.account(creds.key)
    if side is Side.BUY and price * size > acct.collateral - ex.reserved(creds.key) + 1e-9:
        return 400, {"error": "not enough balance / allowance"}
    req = OrderRequest(client_id=oid, slug=info.slug, token_id=token, outcome=info.outcome_of(token), side=side,
                       price=price, size=round(size, 6), order_type=OrderType(wire_type),
                       expires_at=float(expiration - 60) if wire_type == "GTD" else None)
    rec = OrderRec(oid, creds.key, str(order["maker"]), req, info, ex.now(), wire_type, expiration)
    status = ex.add_order(rec)
    if status == "rejected":
        return 400, {"error": f"order {oid} is invalid. {rec.reject_reason}"}
    return 200, {"success": True, "errorMsg": "", "orderID": oid, "status": status, "makingAmount": "",
                 "takingAmount": "", "tradeIDs": list(rec.trades)}
