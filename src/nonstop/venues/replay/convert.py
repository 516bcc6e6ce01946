"""The sim converter: a simulator run written as a market-data file (test data; nothing is downloaded).

One frame per engine period, holding what `SimVenue.poll` would deliver at that time (listings,
spot, oracle, trade prints, resolutions), except that books are sampled at every book bucket of
the simulator (`book_bucket_s`, 50 ms by default) instead of only at poll times, and written when
they change. That is the stream a live recorder would capture, and it is what lets the replay
venue fill a taker at order time + taker delay against the book of that instant, as the sim does.

Only public market data is written: the run places no orders, so the books are the makers'
background books; the replay venue subtracts its own takes from them (the sim's matching rules).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nonstop.venues.base import Book, BookUpdate, Event
from nonstop.venues.replay.format import FORMAT_VERSION
from nonstop.venues.replay.writer import MarketDataWriter
from nonstop.venues.sim import SimConfig, SimExchange


@dataclass
class ConvertStats:
    path: Path
    frames: int
    events: int
    books: int
    duration_s: float


def convert_sim(path: str | Path, seed: int, duration_s: float, config: SimConfig | None = None, *,
                period_s: float = 1.0, fine_books: bool = True,
                progress: Callable[[float], None] | None = None, version: int = FORMAT_VERSION) -> ConvertStats:
    """Run the simulator for `duration_s` venue seconds from its start and write what it published
    (in the format's latest version, or `version` 1)."""
    cfg = config or SimConfig()
    ex = SimExchange(seed, cfg)
    start = ex.start_time
    meta = {"seed": seed, "duration_s": duration_s, "fine_books": fine_books,
            "sim": cfg.model_dump(mode="json")}
    sampler = _BookSampler(ex, cfg.book_bucket_s)
    books = 0
    with MarketDataWriter(path, source="sim", start_time=start, period_s=period_s, meta=meta,
                          version=version) as writer:
        ex.advance(start)
        first = [e for e in ex.snapshot() if type(e) is not BookUpdate]
        first += sampler.at(start)
        writer.write(start, first)
        steps = max(1, math.ceil(duration_s / period_s))
        prev = start
        for i in range(1, steps):  # the poll times of an engine run of `duration_s`
            now = start + i * period_s
            public: list[Event] = []
            frame_books: list[Event] = []
            # The exchange is advanced bucket by bucket and each book read at its own bucket: the
            # makers' state (the tick regime) moves second by second, and a book computed ahead of
            # time would not be the one the sim's matcher sees at order time + taker delay.
            for tb in (sampler.buckets(prev, now) if fine_books else []):
                public += _public(ex.advance(tb, books=False))
                frame_books += sampler.at(tb, started_only=True)
            public += _public(ex.advance(now, books=False))
            frame_books += sampler.at(now)
            books += len(frame_books)
            writer.write(now, public + frame_books)
            prev = now
            if progress is not None and i % 600 == 0:
                progress(i / steps)
    return ConvertStats(writer.path, writer.frames, writer.events, books, steps * period_s)


def _public(delivered: list) -> list[Event]:  # type: ignore[type-arg]
    return [d.event for d in delivered if d.account is None and type(d.event) is not BookUpdate]


class _BookSampler:
    """Books of the open markets at chosen times, kept only when they differ from the last one written."""

    def __init__(self, ex: SimExchange, bucket_s: float) -> None:
        self.ex = ex
        self.bucket_s = bucket_s
        self.last: dict[str, tuple[object, object]] = {}

    def at(self, t: float, started_only: bool = False) -> list[Event]:
        out: list[Event] = []
        infos = self.ex.markets()
        for info in infos:
            if started_only and not (info.start <= t < info.end):
                continue
            for token in (info.up_token, info.down_token):
                book = self.ex.book(token, at=t)
                if book is not None:
                    self._keep(book, out)
        if not started_only:  # forget the markets that closed
            live = {tok for info in infos for tok in (info.up_token, info.down_token)}
            self.last = {tok: sig for tok, sig in self.last.items() if tok in live}
        return out

    def buckets(self, prev: float, now: float) -> list[float]:
        """The book-bucket boundaries strictly inside (prev, now)."""
        first = math.floor(prev / self.bucket_s + 1e-6) + 1
        last = math.ceil(now / self.bucket_s - 1e-6) - 1
        return [round(b * self.bucket_s, 6) for b in range(first, last + 1)]

    def _keep(self, book: Book, out: list[Event]) -> None:
        sig = (book.bids, book.asks)
        if self.last.get(book.token_id) != sig:
            self.last[book.token_id] = sig
            out.append(BookUpdate(book))
