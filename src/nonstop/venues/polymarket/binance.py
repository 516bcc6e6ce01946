"""Fallback spot feed: Binance's public trade streams, used only while RTDS's Binance prices are stale.

polymarket-client has no Binance stream, so this one speaks Binance's combined-stream protocol
with `websockets`: `{url}/stream?streams=btcusdt@trade/...`, messages
`{"stream": "btcusdt@trade", "data": {"e": "trade", "s": "BTCUSDT", "p": "67234.5", "T": <ms>}}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Callable

from websockets.asyncio.client import connect

from nonstop.venues.base import SpotTick
from nonstop.venues.polymarket.http import backoff_s

log = logging.getLogger("nonstop.polymarket.binance")


class BinanceFallback:
    def __init__(self, url: str, assets: list[str], emit: Callable[[Any], None], stale_s: float) -> None:
        self.url, self.assets, self.emit, self.stale_s = url.rstrip("/"), assets, emit, stale_s
        self.active = False  # True while the fallback is the spot source
        self.activations = 0
        self.last_rtds = 0.0  # loop time of the last RTDS spot tick

    def rtds_tick(self, now: float) -> bool:
        """An RTDS spot tick arrived: True to pass it on (False while the fallback is the source)."""
        self.last_rtds = now
        return not self.active

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        self.last_rtds = loop.time()
        while True:
            await asyncio.sleep(min(1.0, self.stale_s / 2))
            if loop.time() - self.last_rtds > self.stale_s:
                self.active = True
                self.activations += 1
                await self._stream(loop)
                self.active = False

    async def _stream(self, loop: asyncio.AbstractEventLoop) -> None:
        """Stream until RTDS has been fresh again for a while; reconnect with back-off meanwhile."""
        names = "/".join(f"{a.lower()}usdt@trade" for a in self.assets)
        attempt = 0
        while loop.time() - self.last_rtds > self.stale_s:
            try:
                async with connect(f"{self.url}/stream?streams={names}", open_timeout=5) as ws:
                    attempt = 0
                    async for raw in ws:
                        self._on_message(raw)
                        if loop.time() - self.last_rtds < self.stale_s / 4:
                            return  # RTDS is back
            except Exception as exc:  # refused, dropped, malformed: try again later
                log.info("binance fallback stream: %r", exc)
            await asyncio.sleep(backoff_s(attempt))
            attempt += 1

    def _on_message(self, raw: Any) -> None:
        msg = json.loads(raw)
        data = msg.get("data", msg)
        if data.get("e") != "trade":
            return
        symbol = str(data.get("s", "")).upper()
        asset = symbol[:-4] if symbol.endswith("USDT") else ""
        if asset in self.assets:
            self.emit(SpotTick(asset, float(data["p"]), float(data["T"]) / 1000.0))
