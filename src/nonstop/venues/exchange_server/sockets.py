"""The fake's WebSockets: CLOB market and user channels, and RTDS crypto prices.

Each connection gets a Listener in the Hub; one task forwards its queue to the socket while the
handler reads the client's frames (subscriptions, text PING keep-alives). A subscription to
market assets is answered with a `book` dump of those assets, as the venue does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from nonstop.venues.exchange_server import wire
from nonstop.venues.exchange_server.exchange import FakeExchange
from nonstop.venues.exchange_server.hub import CLOSE, Listener
from nonstop.venues.exchange_server.keys import KeyStore


def register(app: FastAPI, ex: FakeExchange, keys: KeyStore) -> None:
    @app.websocket("/ws/market")
    async def market(ws: WebSocket) -> None:
        await serve(ws, ex, Listener("market"), lambda lst, msg: _market_frame(ex, lst, msg))

    @app.websocket("/ws/user")
    async def user(ws: WebSocket) -> None:
        await serve(ws, ex, Listener("user"), lambda lst, msg: _user_frame(keys, lst, msg))

    @app.websocket("/rtds")
    async def rtds(ws: WebSocket) -> None:
        if ex.rtds_off:
            await ws.close(code=1013)
            return
        await serve(ws, ex, Listener("rtds"), _rtds_frame)

    @app.websocket("/binance/stream")
    async def binance(ws: WebSocket, streams: str = "") -> None:
        await serve(ws, ex, Listener("binance", topics={s.lower() for s in streams.split("/") if s}),
                    lambda lst, msg: None)


async def serve(ws: WebSocket, ex: FakeExchange, lst: Listener, on_frame: Any) -> None:
    await ws.accept()
    ex.hub.add(lst)
    pump = asyncio.create_task(_pump(ws, lst))
    try:
        while not pump.done():
            recv = asyncio.ensure_future(ws.receive_text())
            done, _ = await asyncio.wait({recv, pump}, return_when=asyncio.FIRST_COMPLETED)
            if recv not in done:
                recv.cancel()
                break
            text = recv.result()
            if text.strip().upper() == "PING":
                lst.send("PONG")
                continue
            try:
                msg = json.loads(text)
            except json.JSONDecodeError:
                continue
            if isinstance(msg, dict) and on_frame(lst, msg) is False:
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        ex.hub.remove(lst)
        pump.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await pump
        with contextlib.suppress(Exception):
            await ws.close()


async def _pump(ws: WebSocket, lst: Listener) -> None:
    while True:
        item = await lst.queue.get()
        if item is CLOSE:
            return
        await ws.send_text(item)


def _market_frame(ex: FakeExchange, lst: Listener, msg: dict[str, Any]) -> None:
    assets = {str(a) for a in msg.get("assets_ids") or []}
    if msg.get("operation") == "unsubscribe":
        lst.assets -= assets
        return
    if "custom_feature_enabled" in msg:
        lst.custom = bool(msg["custom_feature_enabled"])
    new = assets - lst.assets
    lst.assets |= assets
    ex.step()
    dump = []
    for token in sorted(new):
        rec, book = ex.by_token.get(token), ex.books.get(token)
        if rec is not None and book is not None:
            dump.append(wire.ws_book(book, rec.info, ex.last_trade.get(token)))
    if dump and msg.get("initial_dump", True):
        lst.send(dump)


def _user_frame(keys: KeyStore, lst: Listener, msg: dict[str, Any]) -> bool:
    if msg.get("type") == "user":
        auth = msg.get("auth") or {}
        creds = keys.by_key.get(str(auth.get("apiKey", "")))
        if creds is None or creds.secret != auth.get("secret") or creds.passphrase != auth.get("passphrase"):
            lst.send({"error": "Unauthorized/Invalid api key"})
            return False
        lst.api_key = creds.key
        lst.markets = None if "markets" not in msg or not msg["markets"] else {str(m) for m in msg["markets"]}
        return True
    markets = {str(m) for m in msg.get("markets") or []}
    if msg.get("operation") == "subscribe" and lst.markets is not None:
        lst.markets |= markets
    elif msg.get("operation") == "unsubscribe" and lst.markets is not None:
        lst.markets -= markets
    return True


def _rtds_frame(lst: Listener, msg: dict[str, Any]) -> None:
    topics = {str(s.get("topic")) for s in msg.get("subscriptions") or [] if isinstance(s, dict)}
    if msg.get("action") == "subscribe":
        lst.topics |= topics
    elif msg.get("action") == "unsubscribe":
        lst.topics -= topics
