"""ReplayVenue: recorded market data played through the unchanged engine, with simulated fills.

`poll(now)` releases every frame received at or before `now`. Fills come from the simulator's
own matching code (`nonstop.venues.sim.matching.Matcher`): the replay hands it the recorded
books instead of the sim's market makers, so the fee, the order latency, the taker delay, the
minimum size, the tick grid and the recovery of liquidity we took are the sim's rules exactly.

Speed: books are conflated per poll (the engine keeps only the latest book of a token, so only
that one is released) and decoded on first use (`LazyBook`); every record is still read and
counted (a version 2 file's superseded books are decoded only for markets with orders of ours).
The file is inflated and parsed by fast libraries (reader.py) and events are built through their
slots (events.py). Markets with orders of ours are "watched": their every book is
kept for matching, and the book the engine sees is the recorded one minus our own takes plus our
resting orders, as in the sim.
"""

from __future__ import annotations

import heapq
import math
from operator import itemgetter
from pathlib import Path
from typing import Any, Iterator

from nonstop.markets import Outcome
from nonstop.venues.base import Book, BookUpdate, Event, MarketListed, OpenOrderView, OrderRequest, Resolution, Side
from nonstop.venues.replay.account import Account
from nonstop.venues.replay.books import LazyBook
from nonstop.venues.replay.events import book_updates, oracle_ticks, spot_ticks, trade_prints
from nonstop.venues.replay.format import decode_market
from nonstop.venues.replay.ladders import RecordedLadders
from nonstop.venues.replay.reader import MarketDataReader
from nonstop.venues.sim.book import to_books
from nonstop.venues.sim.config import SimConfig
from nonstop.venues.sim.flow import Print
from nonstop.venues.sim.windows import SimMarket

_FIRST = itemgetter(0)
_T = itemgetter("t")
_SIDES = {"B": Side.BUY, "S": Side.SELL}


class ReplayVenue:
    name = "replay"

    def __init__(self, paths: list[str | Path], config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.readers = [MarketDataReader(p) for p in paths]
        self._frames: Iterator[dict[str, Any]] = (
            self.readers[0].frames_iter() if len(self.readers) == 1
            else heapq.merge(*(r.frames_iter() for r in self.readers), key=_T))
        self._next: dict[str, Any] | None = next(self._frames, None)
        starts = [r.header.start_time for r in self.readers if r.header.start_time is not None]
        first_t = self._next["t"] if self._next is not None else 0.0
        self.start_time: float = float(min(starts)) if starts else float(first_t)
        self.ladders = RecordedLadders()
        # Version 2 frames hold one `B` record a token (the others are superseded): no conflation needed
        self._conflated = all(r.header.version >= 2 for r in self.readers)
        self.markets: dict[str, SimMarket] = {}
        self._by_token: dict[str, SimMarket] = {}
        self._keys = 0
        self.account = Account(self.config, self.ladders, self.markets)
        self._emitted: dict[str, tuple[Any, Any]] = {}  # display books sent for watched markets
        self.now = self.start_time - 1.0
        self.frames = 0
        self.events = 0  # records read from the files
        self.books_read = 0
        self.prints_read = 0

    # -- Venue protocol ------------------------------------------------------------

    def start(self, now: float) -> None:
        pass  # frames before `now` are released by the first poll: the snapshot a subscriber gets

    def poll(self, now: float) -> list[Event]:
        if now <= self.now:
            return []
        out: list[Event] = []
        trading: list[tuple[float, int, Event]] = []
        books: list[list[list[Any]]] = []  # the `B` records of each frame released
        resolved: list[str] = []
        frame, frames = self._next, self._frames
        while frame is not None and frame["t"] <= now:
            self._ingest(frame, out, trading, books, resolved)
            frame = next(frames, None)
        self._next = frame
        latest = self._latest(books)
        self.ladders.latest.update(zip(map(_FIRST, latest), latest))
        trading += self.account.advance(now)
        watched = self.account.watched
        if not watched:  # the common case: every changed book goes out as recorded
            out += book_updates(latest)
        else:
            mine = self.account.watched_tokens  # their books are the display books below
            out += book_updates([row for row in latest if row[0] not in mine])
            for m in list(watched.values()):
                if not m.closed:
                    self._display(m, now, out)
                self.ladders.prune(m, now)
        for slug in resolved:
            self._forget(slug)
        self.now = now
        if trading:
            trading.sort(key=lambda x: (x[0], x[1]))
            out += [ev for _, _, ev in trading]
        return out

    def book(self, token_id: str) -> Book | None:
        m = self._by_token.get(token_id)
        if m is None:
            return None
        if m.key in self.account.watched and not m.closed:
            up, down = to_books(m, *self.account.matcher.display(m, self.now), self.now)
            return up if token_id == m.info.up_token else down
        row = self.ladders.latest.get(token_id)
        return self._book(row) if row is not None else None

    def place(self, order: OrderRequest, now: float) -> None:
        self.account.place(order, max(now, self.now))

    def cancel(self, client_id: str, now: float) -> None:
        self.account.cancel(client_id, max(now, self.now))

    def cancel_all(self, now: float) -> None:
        self.account.cancel_all(max(now, self.now))

    def open_orders(self) -> list[OpenOrderView]:
        return self.account.open_orders()

    def close(self) -> None:
        self._next = None

    # -- progress --------------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        """Every frame has been released."""
        return self._next is None

    @property
    def done(self) -> bool:
        """Nothing more can happen: no frame left and no order action pending."""
        return self._next is None and not self.account.pending

    @property
    def progress(self) -> float:
        total = sum(r.size for r in self.readers)
        return sum(r.consumed for r in self.readers) / total if total else 1.0

    # -- internals -------------------------------------------------------------------

    def _latest(self, books: list[list[list[Any]]]) -> list[list[Any]]:
        """The latest record of each token among the frames' books, tokens in the order they first came."""
        if len(books) == 1 and self._conflated:  # one version 2 frame: one record a token already
            return books[0]
        changed: dict[str, list[Any]] = {}
        for rows in books:
            changed.update(zip(map(_FIRST, rows), rows))
        return list(changed.values())

    def _ingest(self, f: dict[str, Any], out: list[Event], trading: list[tuple[float, int, Event]],
                books_in: list[list[list[Any]]], resolved: list[str]) -> None:
        t = f["t"]
        self.frames += 1
        n = 0
        rows = f.get("M")
        if rows:
            n += len(rows)
            for raw in rows:
                out.append(MarketListed(self._list(decode_market(raw), t)))
        rows = f.get("S")
        if rows:
            n += len(rows)
            out += spot_ticks(rows)
        rows = f.get("O")
        if rows:
            n += len(rows)
            out += oracle_ticks(rows)
        rows = f.get("B")
        if rows:
            earlier = f.get("b")  # version 2: the books superseded within the frame, decoded only when needed
            books = len(rows) + (earlier.count if earlier is not None else 0)
            n += books
            self.books_read += books
            books_in.append(rows)  # the latest of each token go out, and to the ladders, after the frames
            watched = self.account.watched_up
            if watched:  # their every book, each token's in recorded order (a timeline holds one token's)
                for row in rows if earlier is None else earlier.rows(watched) + rows:
                    m = watched.get(row[0])
                    if m is not None:
                        self.ladders.record(m, row)
        rows = f.get("T")
        if rows:
            n += len(rows)
            self.prints_read += len(rows)
            out += trade_prints(rows)
            if self.account.watched:
                for row in rows:
                    self._watched_print(row)
        rows = f.get("R")
        if rows:
            n += len(rows)
            for slug, winner, ts, final, ptb in rows:
                trading.append((t, 0, Resolution(slug, Outcome(winner), ts, final, ptb)))
                resolved.append(slug)
        self.events += n

    def _list(self, info: Any, t: float) -> Any:
        m = self.markets.get(info.slug)
        if m is None:
            self._keys += 1
            m = SimMarket(key=self._keys, info=info, asset=info.asset, timeframe=info.timeframe, start=info.start,
                          end=info.end, listed_at=math.floor(t), n_levels=0, t30_spread_add=0.0)
            self.markets[info.slug] = m
            self._by_token[info.up_token] = m
            self._by_token[info.down_token] = m
        else:
            m.info = info
        return info

    def _watched_print(self, row: list[Any]) -> None:
        token, price, size, side, ts = row
        m = self._by_token.get(token)
        if m is None or m.key not in self.account.watched:
            return
        own = round(price * 1000.0)
        is_up = token == m.info.up_token
        lifts_up = (side == "B") == is_up  # buying Up or selling Down lifts the Up asks
        up_price = own if is_up else 1000 - own
        self.account.add_print(m, math.floor(ts), Print(token, _SIDES[side], own, size, size * price,
                                                        1 if lifts_up else -1, up_price))

    def _display(self, m: SimMarket, now: float, out: list[Event]) -> None:
        bids, asks = self.account.matcher.display(m, now)
        for book in to_books(m, bids, asks, now):
            sig = (book.bids, book.asks)
            if self._emitted.get(book.token_id) != sig:
                self._emitted[book.token_id] = sig
                out.append(BookUpdate(book))

    @staticmethod
    def _book(row: list[Any]) -> Book:
        return LazyBook(row[0], row[2], row[3], row[1])

    def _forget(self, slug: str) -> None:
        m = self.markets.pop(slug, None)
        if m is None:
            return
        for token in (m.info.up_token, m.info.down_token):
            self._by_token.pop(token, None)
            self.ladders.latest.pop(token, None)
            self._emitted.pop(token, None)
        self.account.forget(m)
