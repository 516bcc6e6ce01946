"""Market data on the I/O loop: discovery, the market channel, spot/oracle prices, resolutions.

Everything it learns becomes a base event (MarketListed, BookUpdate, TradePrint, SpotTick,
OracleTick, Resolution) put in the worker's outbox, so the engine sees exactly what the sim
venue would give it. The market channel and RTDS go through polymarket-client's subscriptions
(which reconnect and resubscribe by themselves); after a lost socket the books are marked stale
and re-read over REST (`POST /books`) once the socket is back.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any

from polymarket import AsyncPublicClient
from polymarket.streams import (CryptoPricesBinanceEvent, CryptoPricesChainlinkEvent, CryptoPricesSpec,
                                MarketBookEvent, MarketLastTradePriceEvent, MarketPriceChangeEvent,
                                MarketResolvedEvent, MarketSpec, MarketTickSizeChangeEvent)

from nonstop.markets import ASSETS, MarketInfo, Outcome
from nonstop.venues.base import BookUpdate, MarketListed, OracleTick, Resolution, Side, SpotTick, TradePrint
from nonstop.venues.polymarket import sdk_seam
from nonstop.venues.polymarket.binance import BinanceFallback
from nonstop.venues.polymarket.books import LocalBook
from nonstop.venues.polymarket.clock import actual_time
from nonstop.venues.polymarket.discovery import Discovered, discovered, wanted_slugs
from nonstop.venues.polymarket.http import RestReader, backoff_s
from nonstop.venues.polymarket.worker import Worker

log = logging.getLogger("nonstop.polymarket.feed")
_SYMBOLS = {**{f"{a.lower()}/usd": a for a in ASSETS}, **{f"{a.lower()}usdt": a for a in ASSETS}}


@dataclass
class FeedStats:
    book_resyncs: int = 0
    socket_losses: int = 0
    discovery_errors: int = 0
    events: int = 0
    last_error: str = ""


@dataclass
class Known:
    disc: Discovered
    handle: Any = None
    resolved: bool = False
    tokens: tuple[str, str] = ("", "")
    checked_at: float = 0.0


class MarketFeed:
    def __init__(self, worker: Worker, clock: Any, hosts: dict[str, str], pairs: list[tuple[str, str]],
                 reader: RestReader, every_s: float, rtds: bool = True, binance: BinanceFallback | None = None) -> None:
        self.worker, self.clock, self.pairs, self.reader = worker, clock, pairs, reader
        self.hosts = {**sdk_seam.production_hosts(), **hosts}
        self.every_s = every_s
        self.want_rtds = rtds
        self.binance = binance
        self.client: AsyncPublicClient | None = None
        self.known: dict[str, Known] = {}
        self.by_token: dict[str, Known] = {}
        self.books: dict[str, LocalBook] = {}
        self.stats = FeedStats()
        self._market_mgr: Any = None
        self._resync: asyncio.Task[Any] | None = None

    def emit(self, event: Any) -> None:
        self.stats.events += 1
        self.worker.put("event", event)

    async def run(self) -> None:
        """Start streams, then discover forever (the worker cancels it on close)."""
        self.client = AsyncPublicClient(sdk_seam.build_environment(self.hosts))
        self._market_mgr = sdk_seam.watch_stream_loss(self.client, "market", self._on_market_lost)
        if self.want_rtds:
            asyncio.get_running_loop().create_task(self._prices())
            if self.binance is not None:
                asyncio.get_running_loop().create_task(self.binance.watch())
        speed = float(getattr(self.clock, "speed", 1.0) or 1.0)
        while True:
            try:
                await self.discover_once()
            except Exception as exc:  # discovery retries next round; the error is shown in status
                self.stats.discovery_errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("discovery failed: %r", exc)
            await asyncio.sleep(max(0.2, self.every_s / max(speed, 1.0)))

    async def discover_once(self) -> None:
        now = actual_time(self.clock)
        for slug in wanted_slugs(self.pairs, now):
            k = self.known.get(slug)
            if k is None or k.disc.info.price_to_beat is None:
                await self.refresh(slug)
        for slug, k in list(self.known.items()):
            if not k.resolved and now >= k.disc.info.end and now - k.checked_at >= 5.0:
                await self.refresh(slug)
            elif k.resolved and now > k.disc.info.end + 3600:
                del self.known[slug]

    async def refresh(self, slug: str) -> Discovered | None:
        """Read the event (and its CLOB market info the first time); emit what changed."""
        status, event = await self.reader.get_json(f"{self.hosts['gamma_url']}/events/slug/{slug}", "GAMMA /events")
        if status == 404 or not event:
            return None
        k = self.known.get(slug)
        compact = None
        if k is None:
            cid = (event.get("markets") or [{}])[0].get("conditionId", "")
            _, compact = await self.reader.get_json(f"{self.hosts['clob_url']}/clob-markets/{cid}", "GET /tick-size")
        d = discovered(event, compact)
        if k is None:
            k = Known(d, tokens=(d.info.up_token, d.info.down_token))
            self.known[slug] = k
            for token in k.tokens:
                self.by_token[token] = k
                self.books.setdefault(token, LocalBook(token))
            self.emit(MarketListed(d.info))
            if not d.closed:
                await self._subscribe(k)
        else:
            info = d.info if compact is not None else _keep_clob(k.disc.info, d.info)
            if info != k.disc.info:
                self.emit(MarketListed(info))
            k.disc = Discovered(info, d.condition_id, d.closed, d.resolved, d.final_value)
        k.checked_at = actual_time(self.clock)
        if d.resolved is not None:
            await self._resolve(k, d.resolved, d.final_value)
        return k.disc

    async def _subscribe(self, k: Known) -> None:
        assert self.client is not None
        handle = await self.client.subscribe(MarketSpec(asset_ids=list(k.tokens), custom_feature_enabled=True))
        k.handle = handle
        asyncio.get_running_loop().create_task(self._consume(k, handle))

    async def _consume(self, k: Known, handle: Any) -> None:
        async for ev in handle:
            try:
                self._on_market(k, ev)
            except Exception as exc:  # one bad message must not end the stream
                log.warning("market event %s failed: %r", type(ev).__name__, exc)

    def _on_market(self, k: Known, ev: Any) -> None:
        p = ev.payload
        ts = p.timestamp.timestamp() if getattr(p, "timestamp", None) is not None else actual_time(self.clock)
        if isinstance(ev, MarketBookEvent):
            book = self.books.get(p.asset_id)
            if book is not None:
                book.snapshot(p.bids, p.asks, ts)
                self.emit(BookUpdate(book.book()))
        elif isinstance(ev, MarketPriceChangeEvent):
            touched = []
            for ch in p.price_changes:
                book = self.books.get(ch.asset_id)
                if book is not None and book.change(ch.price, ch.size, ch.side, ts) and ch.asset_id not in touched:
                    touched.append(ch.asset_id)
            for token in touched:
                self.emit(BookUpdate(self.books[token].book()))
        elif isinstance(ev, MarketLastTradePriceEvent):
            self.emit(TradePrint(p.asset_id, float(p.price), float(p.size or 0), Side(p.side), ts))
        elif isinstance(ev, MarketTickSizeChangeEvent):
            info = dataclasses.replace(k.disc.info, tick_size=float(p.new_tick_size))
            k.disc = Discovered(info, k.disc.condition_id, k.disc.closed, k.disc.resolved, k.disc.final_value)
            self.emit(MarketListed(info))
        elif isinstance(ev, MarketResolvedEvent):
            winner = Outcome.UP if p.winning_asset_id == k.disc.info.up_token else Outcome.DOWN
            asyncio.get_running_loop().create_task(self._resolve_soon(k, winner))

    async def _resolve_soon(self, k: Known, winner: Outcome) -> None:
        """The socket said who won; Gamma has the final value. Take Gamma's if it already agrees."""
        d = await self.refresh(k.disc.info.slug)
        if not k.resolved:
            await self._resolve(k, winner, d.final_value if d else None)

    async def _resolve(self, k: Known, winner: Outcome, final: float | None) -> None:
        if k.resolved:
            return
        k.resolved = True
        info = k.disc.info
        ptb = info.price_to_beat if info.price_to_beat is not None else math.nan
        self.emit(Resolution(info.slug, winner, float(info.end), final if final is not None else math.nan, ptb))
        if k.handle is not None:
            handle, k.handle = k.handle, None
            await handle.close()
        for token in k.tokens:
            self.books.pop(token, None)

    # -- gaps ------------------------------------------------------------------------------

    def _on_market_lost(self) -> None:
        self.stats.socket_losses += 1
        for book in self.books.values():
            book.stale = True
        if self._resync is None or self._resync.done():
            self._resync = asyncio.get_running_loop().create_task(self._resync_books())

    async def _resync_books(self) -> None:
        """Once the socket is back, replace every book with a REST snapshot (deltas were missed)."""
        for _ in range(600):
            if sdk_seam.stream_is_open(self._market_mgr):
                break
            await asyncio.sleep(0.05)
        tokens = [t for t, b in self.books.items() if t in self.by_token and not self.by_token[t].resolved]
        assert self.client is not None
        for i in range(0, len(tokens), 100):
            got = await self._read_books(tokens[i:i + 100])
            for ob in got:
                book = self.books.get(ob.asset_id)
                ts = ob.timestamp.timestamp() if ob.timestamp is not None else actual_time(self.clock)
                if book is not None and (book.stale or ts >= book.ts):
                    book.snapshot(ob.bids, ob.asks, ts)
                    self.emit(BookUpdate(book.book()))
        self.stats.book_resyncs += 1

    async def _read_books(self, tokens: list[str]) -> Any:
        assert self.client is not None
        for attempt in range(8):
            await self.reader.limiter_acquire("POST /books")
            try:
                return await self.client.get_order_books(token_ids=tokens)
            except Exception as exc:  # 429 / 5xx / transport: back off and try again
                self.stats.last_error = f"book resync: {type(exc).__name__}: {exc}"[:300]
                await asyncio.sleep(backoff_s(attempt, getattr(exc, "retry_after", None)))
        return ()

    # -- spot and oracle prices --------------------------------------------------------------

    async def _prices(self) -> None:
        assert self.client is not None
        handle = await self.client.subscribe([CryptoPricesSpec(topic="prices.crypto.chainlink"),
                                              CryptoPricesSpec(topic="prices.crypto.binance")])
        async for ev in handle:
            asset = _SYMBOLS.get(ev.payload.symbol.lower())
            if asset is None:
                continue
            ts = ev.payload.timestamp / 1000.0
            if isinstance(ev, CryptoPricesChainlinkEvent):
                self.emit(OracleTick(asset, float(ev.payload.value), ts))
            elif isinstance(ev, CryptoPricesBinanceEvent):
                if self.binance is None or self.binance.rtds_tick(asyncio.get_running_loop().time()):
                    self.emit(SpotTick(asset, float(ev.payload.value), ts))

    async def close(self) -> None:
        for k in self.known.values():
            if k.handle is not None:
                await k.handle.close()
        if self.client is not None:
            await self.client.close()


def _keep_clob(old: MarketInfo, new: MarketInfo) -> MarketInfo:
    """Gamma's refresh keeps the CLOB's tick / fees / neg-risk learned at listing (or from the socket)."""
    return dataclasses.replace(new, tick_size=old.tick_size, min_size=old.min_size, fee_rate=old.fee_rate,
                               fee_exponent=old.fee_exponent, neg_risk=old.neg_risk)
