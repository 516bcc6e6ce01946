"""Live orders on the I/O loop through polymarket-client's AsyncSecureClient.

Sign -> journal (client id, order id, signed body) -> POST; a 429, 5xx, 425 or lost answer is
retried with the *same* signed order, and the venue's "Duplicated" answer means the first try
got through (the order is then read back). Cancels wait out the taker delay of a DELAYED order.
The CLOB heartbeat is sent every few seconds; if it cannot be kept alive past the venue's 10 s
limit the venue cancels everything, so the engine is told and the orders are re-read. Results
go to the engine thread as raw messages; the order state machine lives in tracker.py.
"""

from __future__ import annotations

import asyncio
import math
import time
from decimal import ROUND_UP, Decimal
from typing import Any, Literal

from polymarket import AsyncSecureClient
from polymarket.errors import (OrderHeartbeatMismatchError, RateLimitError, RequestRejectedError, TransportError)
from polymarket.models.clob import SignedOrder
from polymarket.streams import UserSpec

from nonstop.markets import MarketInfo, round_to_tick
from nonstop.venues.base import OrderRequest, OrderType
from nonstop.venues.polymarket import sdk_seam
from nonstop.venues.polymarket.clock import actual_time
from nonstop.venues.polymarket.http import backoff_s
from nonstop.venues.polymarket.order_hash import order_id, signed_order_json
from nonstop.venues.polymarket.ratelimit import Limiter
from nonstop.venues.polymarket.settings import Credentials, PolymarketSettings
from nonstop.venues.polymarket.store import OrderStore
from nonstop.venues.polymarket.worker import Worker

_GTD_MIN_S = 180 + 60 + 15  # SDK: >= 3 min ahead; the venue expires GTDs a minute early; 15 s of slack


class LiveClob:
    def __init__(self, worker: Worker, settings: PolymarketSettings, creds: Credentials, store: OrderStore,
                 limiter: Limiter, clock: Any) -> None:
        self.worker, self.settings, self.creds, self.store, self.limiter, self.clock = (
            worker, settings, creds, store, limiter, clock)
        self.client: AsyncSecureClient | None = None
        self.heartbeat_lost = False
        self.retries = 0
        self.duplicates_resolved = 0

    async def connect(self) -> dict[str, Any]:
        """Derive API credentials, then read collateral balance and allowance (for the live start)."""
        from eth_account import Account

        env = sdk_seam.build_environment(self.settings.hosts())
        signer = Account.from_key(self.creds.private_key).address
        self.client = await AsyncSecureClient.create(private_key=self.creds.private_key,
                                                     wallet=self.creds.funder or signer, environment=env)
        ba = await self.client.get_balance_allowance(asset_type="COLLATERAL")
        return {"signer": signer, "wallet": str(self.client.wallet), "api_key": self.client.credentials.key,
                "balance": ba.balance / 1e6, "allowance": max(ba.allowances.values(), default=0) / 1e6}

    async def run_streams(self) -> None:
        """User channel (fills, order updates) + heartbeats; re-read orders after any gap."""
        assert self.client is not None
        sdk_seam.watch_stream_loss(self.client, "user", lambda: self.worker.put("gap", "user channel"))
        handle = await self.client.subscribe(UserSpec())
        asyncio.get_running_loop().create_task(self._heartbeats())
        async for ev in handle:
            self.worker.put("user", ev)

    # -- orders ---------------------------------------------------------------------------

    async def place(self, req: OrderRequest, info: MarketInfo | None) -> None:
        stored = self.store.get(req.client_id)
        if stored is not None:  # a resend: the very same signed order, so never a second order
            oid, body = stored
            signed = _signed_from(body)
        else:
            try:
                signed = await self._sign(req, info)
            except Exception as exc:  # the SDK refused it locally (tick, expiry, size...)
                self.worker.put("placed", (req.client_id, "", ("rejected", f"{type(exc).__name__}: {exc}", ())))
                return
            body = {**signed_order_json(signed), "orderType": signed.order_type, "postOnly": signed.post_only}
            oid = order_id(body, neg_risk=bool(info and info.neg_risk))
            self.store.put(req.client_id, oid, body)  # journaled before it is sent
        self.worker.put("signed", (req.client_id, oid))
        self.worker.put("placed", (req.client_id, oid, await self._post(signed, oid)))

    async def _sign(self, req: OrderRequest, info: MarketInfo | None) -> SignedOrder:
        assert self.client is not None
        tick = info.tick_size if info else 0.01
        price = round_to_tick(req.price, tick)
        kind: Literal["FAK", "FOK"] = "FOK" if req.order_type is OrderType.FOK else "FAK"
        if req.order_type.is_taker:
            if req.side.value == "BUY":
                # A market BUY is sent as a USD amount (cents); rounding it up keeps the shares >= size
                # (the minimum order size is in shares); the price cap still bounds what is paid.
                amount = Decimal(str(price * req.size)).quantize(Decimal("0.01"), rounding=ROUND_UP)
                return await self.client.create_market_order(token_id=req.token_id, side="BUY", amount=amount,
                                                             max_price=str(price), order_type=kind)
            return await self.client.create_market_order(token_id=req.token_id, side="SELL", shares=str(req.size),
                                                         min_price=str(price), order_type=kind)
        expiration = None
        if req.order_type is OrderType.GTD and req.expires_at is not None:
            # The venue expires a GTD one minute early and wants it >= 3 min ahead; shorter GTDs are
            # sent as GTC and cancelled at expires_at by the tracker.
            if req.expires_at - actual_time(self.clock) >= _GTD_MIN_S:
                expiration = int(math.ceil(req.expires_at)) + 60
        return await self.client.create_limit_order(token_id=req.token_id, price=str(price), size=str(req.size),
                                                    side="BUY" if req.side.value == "BUY" else "SELL",
                                                    expiration=expiration)

    async def _post(self, signed: SignedOrder, oid: str) -> tuple[str, str, tuple[str, ...]]:
        """('accepted', status, trade ids) or ('rejected', reason, ())."""
        assert self.client is not None
        last = ""
        for attempt in range(self.settings.max_retries + 1):
            try:
                resp = await self.client.post_order(signed)
            except RateLimitError as exc:
                last, wait = f"429 rate limited: {exc}", backoff_s(attempt, exc.retry_after)
            except RequestRejectedError as exc:
                if "duplicated" in str(exc).lower():  # an earlier try got through
                    self.duplicates_resolved += 1
                    return await self._read_back(oid, f"after a lost answer ({last or exc})")
                if exc.status < 500 and exc.status != 425:
                    return "rejected", str(exc), ()
                last, wait = f"HTTP {exc.status}: {exc}", backoff_s(attempt, exc.retry_after)
            except TransportError as exc:
                last, wait = f"transport: {exc}", backoff_s(attempt)
            else:
                if resp.ok:
                    return "accepted", resp.status, tuple(resp.trade_ids)
                return "rejected", f"{resp.code}: {resp.message}", ()
            self.retries += 1
            await asyncio.sleep(wait)
        return await self._read_back(oid, f"gave up after {self.settings.max_retries + 1} attempts ({last})")

    async def _read_back(self, oid: str, why: str) -> tuple[str, str, tuple[str, ...]]:
        order = await self.get_order(oid)
        if order is None:
            return "rejected", f"not at the venue {why}", ()
        return "accepted", order.status.lower(), tuple(order.associate_trades)

    async def get_order(self, oid: str) -> Any:
        assert self.client is not None
        for attempt in range(self.settings.max_retries + 1):
            try:
                return await self.client.get_order(order_id=oid)
            except RequestRejectedError as exc:
                if exc.status == 404:
                    return None
                if exc.status < 500:
                    raise
                await asyncio.sleep(backoff_s(attempt, exc.retry_after))
            except (RateLimitError, TransportError) as exc:
                await asyncio.sleep(backoff_s(attempt, getattr(exc, "retry_after", None)))
        raise RuntimeError(f"GET /data/order/{oid}: no answer after {self.settings.max_retries + 1} attempts")

    async def cancel(self, client_id: str, oids: list[str]) -> None:
        """Cancel some orders (all of them when `oids` is empty)."""
        assert self.client is not None
        for attempt in range(self.settings.max_retries + 1):
            try:
                await self.limiter.acquire("DELETE /cancel-all" if not oids else "DELETE /orders")
                resp = await (self.client.cancel_all() if not oids else self.client.cancel_orders(order_ids=oids))
                self.worker.put("cancelled", (client_id, list(resp.canceled), dict(resp.not_canceled)))
                return
            except (RateLimitError, TransportError) as exc:
                await asyncio.sleep(backoff_s(attempt, getattr(exc, "retry_after", None)))
            except RequestRejectedError as exc:
                if exc.status < 500 and exc.status != 425:
                    self.worker.put("cancelled", (client_id, [], {o: str(exc) for o in oids}))
                    return
                await asyncio.sleep(backoff_s(attempt, exc.retry_after))
        self.worker.put("cancelled", (client_id, [], {o: "no answer from the venue" for o in oids}))

    # -- reconciliation reads ---------------------------------------------------------------

    async def reconcile(self, oids: list[str], after: float) -> None:
        """Re-read orders and trades after a gap (socket loss, lost heartbeat) and hand them over."""
        orders = {oid: await self.get_order(oid) for oid in oids}
        self.worker.put("reconciled", (orders, await self.trades(after)))

    async def trades(self, after: float) -> list[Any]:
        assert self.client is not None
        for attempt in range(self.settings.max_retries + 1):
            try:
                await self.limiter.acquire("GET /data/trades")
                pager = self.client.list_account_trades(after=str(int(after)))
                return [t async for t in pager.iter_items()]
            except (RateLimitError, TransportError, RequestRejectedError) as exc:
                await asyncio.sleep(backoff_s(attempt, getattr(exc, "retry_after", None)))
        raise RuntimeError("GET /data/trades: no answer")

    # -- heartbeat -----------------------------------------------------------------------------

    async def _heartbeats(self) -> None:
        assert self.client is not None
        hb_id, last_ok, failing = "", time.monotonic(), False
        while True:
            try:
                hb_id = (await self.client.send_order_heartbeat(heartbeat_id=hb_id)).heartbeat_id
                last_ok = time.monotonic()
                if failing or self.heartbeat_lost:
                    failing = self.heartbeat_lost = False
                    self.worker.put("heartbeat", "ok")
            except OrderHeartbeatMismatchError as exc:
                hb_id = exc.heartbeat_id  # the venue says which id it expects (empty: register again)
                await asyncio.sleep(0.05)
                continue
            except Exception:  # 5xx, transport, rate limit: keep trying; the deadline decides
                if not failing:
                    failing = True  # a venue cancel from now on is most likely the dead-man switch
                    self.worker.put("heartbeat", "failing")
            if not self.heartbeat_lost and time.monotonic() - last_ok > self.settings.heartbeat_timeout_s:
                self.heartbeat_lost = True
                self.worker.put("heartbeat", "lost")
            await asyncio.sleep(self.settings.heartbeat_every_s)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.close()


def _signed_from(body: dict[str, Any]) -> SignedOrder:
    return SignedOrder(builder=body["builder"], expiration=int(body["expiration"]), maker=body["maker"],
                       maker_amount=int(body["makerAmount"]), metadata=body["metadata"], order_type=body["orderType"],
                       salt=int(body["salt"]), side=body["side"], signature=body["signature"],
                       signature_type=int(body["signatureType"]), signer=body["signer"],
                       taker_amount=int(body["takerAmount"]), timestamp=int(body["timestamp"]),
                       token_id=body["tokenId"], post_only=bool(body.get("postOnly", False)))
