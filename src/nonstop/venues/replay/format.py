"""The nonstop market-data format, versions 1 and 2 (see FORMAT.md beside this file).

A gzip stream of JSON lines: one header line, then one *frame* per receive time, then one end
line. A frame groups the public market-data events the venue delivered at one receive time
`t`, by kind. Book levels are packed into one string per side ("price:size,price:size") so a
reader can skip the books it does not need without building a float per level.

Version 2 (what the writer writes) numbers the token ids in a table instead of repeating them,
and moves the books a later book of the same token supersedes within the frame to a line of
their own, decoded only when asked (`EarlierBooks`): a replay releases the latest book of each
token, and needs the others only for markets with orders of ours. Readers read both versions
into the same frames (`B` and `T` records carry token ids), so a replay sees the same events.

Floats are written with Python's shortest round-trip repr, so a replay sees bit-identical values.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Container

from pydantic import BaseModel, ConfigDict, Field

from nonstop.markets import MarketInfo, Outcome
from nonstop.venues.base import (Book, BookUpdate, Event, Level, MarketListed, OracleTick, Resolution, Side,
                                 SpotTick, TradePrint)

FORMAT_NAME = "nonstop-market-data"
FORMAT_VERSION = 2  # what the writer writes; readers read every version up to it
SUFFIX = ".nmd.gz"

KINDS = ("M", "S", "O", "B", "T", "R")  # the order a frame's kinds are written and replayed in
_MARKET_FIELDS = tuple(f.name for f in fields(MarketInfo))


class Header(BaseModel):
    """Line 1 of every file."""

    model_config = ConfigDict(extra="allow")

    format: str
    version: int = Field(ge=1)
    source: str = "unknown"  # "sim", "polymarket", ...
    created_at: str = ""
    start_time: float | None = None  # venue time a replay starts at; None: the first frame's `t`
    period_s: float | None = None  # the engine period the file was recorded with, when known
    meta: dict[str, Any] = Field(default_factory=dict)


def encode_levels(levels: tuple[Level, ...]) -> str:
    return ",".join(f"{lv.price!r}:{lv.size!r}" for lv in levels)


def decode_levels(text: str) -> tuple[Level, ...]:
    if not text:
        return ()
    out = []
    for item in text.split(","):
        price, size = item.split(":")
        out.append(Level(float(price), float(size)))
    return tuple(out)


def encode_market(info: MarketInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in _MARKET_FIELDS}


def decode_market(raw: dict[str, Any]) -> MarketInfo:
    return MarketInfo(**raw)


def encode_frame(t: float, events: list[Event]) -> dict[str, Any]:
    """The JSON object of one frame; events that are not public market data are refused."""
    frame: dict[str, Any] = {"t": t}
    for ev in events:
        kind = type(ev)
        if kind is BookUpdate:
            b = ev.book  # type: ignore[union-attr]
            frame.setdefault("B", []).append([b.token_id, b.ts, encode_levels(b.bids), encode_levels(b.asks)])
        elif kind is SpotTick:
            frame.setdefault("S", []).append([ev.asset, ev.price, ev.ts])  # type: ignore[union-attr]
        elif kind is OracleTick:
            frame.setdefault("O", []).append([ev.asset, ev.price, ev.ts])  # type: ignore[union-attr]
        elif kind is TradePrint:
            frame.setdefault("T", []).append([ev.token_id, ev.price, ev.size,  # type: ignore[union-attr]
                                              ev.taker_side.value[0], ev.ts])  # type: ignore[union-attr]
        elif kind is MarketListed:
            frame.setdefault("M", []).append(encode_market(ev.info))  # type: ignore[union-attr]
        elif kind is Resolution:
            frame.setdefault("R", []).append([ev.slug, ev.winner.value, ev.ts,  # type: ignore[union-attr]
                                              ev.final_value, ev.price_to_beat])  # type: ignore[union-attr]
        else:
            raise TypeError(f"{kind.__name__} is account data, not market data; it is not recorded")
    return frame


def pack_frame(frame: dict[str, Any], ids: dict[str, int]) -> tuple[dict[str, Any], list[Any] | None]:
    """A frame (encode_frame's) as version 2 writes it: the frame line, and the earlier-books line or None.

    `ids` is the file's token table (token id -> number), grown here; new entries go in the frame's `K`.
    The frame's `B` keeps the latest book of each token, tokens in the order they first appear; the
    earlier-books line is [positions of those in the recorded `B` order, [[position, number, ts, bids,
    asks], ...]], so that every record, and its order, can be restored (`EarlierBooks.all_rows`)."""
    new: list[list[Any]] = []

    def number(token: str) -> int:
        n = ids.get(token)
        if n is None:
            n = ids[token] = len(ids)
            new.append([n, token])
        return n

    parts: dict[str, Any] = {}
    side: list[Any] | None = None
    for kind in KINDS:
        rows = frame.get(kind)
        if not rows:
            continue
        if kind == "B":
            recorded = rows
            last = {row[0]: pos for pos, row in enumerate(recorded)}  # each token's latest record
            order = [last[token] for token in dict.fromkeys(row[0] for row in recorded)]
            rows = [[number(recorded[pos][0]), *recorded[pos][1:]] for pos in order]
            if len(order) < len(recorded):
                side = [order, [[pos, ids[row[0]], *row[1:]]
                                for pos, row in enumerate(recorded) if last[row[0]] != pos]]
        elif kind == "T":
            rows = [[number(row[0]), *row[1:]] for row in rows]
        parts[kind] = rows
    out: dict[str, Any] = {"t": frame["t"]}
    if new:
        out["K"] = new
    out.update(parts)
    if side is not None:
        out["b"] = len(side[1])
    return out, side


class EarlierBooks:
    """A version 2 frame's superseded `B` records, kept as their line's bytes until someone asks for them."""

    __slots__ = ("count", "_line", "_names", "_loads")

    def __init__(self, count: int, line: Any, names: list[str], loads: Any) -> None:
        self.count = count  # records on the line (read, and counted, without decoding them)
        self._line = line
        self._names = names  # the file's token table, as the reader has it
        self._loads = loads

    def rows(self, tokens: Container[str] | None = None) -> list[list[Any]]:
        """These records (of `tokens` only, if given), in recorded order (each before the frame's latest
        record of its token)."""
        names = self._names
        return [[names[number], ts, bids, asks] for _, number, ts, bids, asks in self._loads(self._line)[1]
                if tokens is None or names[number] in tokens]

    def all_rows(self, latest: list[list[Any]]) -> list[list[Any]]:
        """Every `B` record of the frame in recorded order: these and `latest` (the frame's `B`)."""
        order, rows = self._loads(self._line)
        out: list[Any] = [None] * (len(order) + len(rows))
        for pos, row in zip(order, latest):
            out[pos] = row
        names = self._names
        for pos, number, ts, bids, asks in rows:
            out[pos] = [names[number], ts, bids, asks]
        return out


def book_rows(frame: dict[str, Any]) -> list[list[Any]]:
    """A read frame's `B` records, all of them, in recorded order (version 1 or 2)."""
    rows = frame.get("B") or []
    earlier = frame.get("b")
    return earlier.all_rows(rows) if earlier is not None else rows


def book_event(row: list[Any]) -> BookUpdate:
    token, ts, bids, asks = row
    return BookUpdate(Book(token, decode_levels(bids), decode_levels(asks), ts))


def decode_frame(frame: dict[str, Any]) -> list[Event]:
    """Every event of a frame, kinds in KINDS order (the replay venue decodes lazily instead)."""
    out: list[Event] = []
    for raw in frame.get("M", ()):
        out.append(MarketListed(decode_market(raw)))
    for asset, price, ts in frame.get("S", ()):
        out.append(SpotTick(asset, price, ts))
    for asset, price, ts in frame.get("O", ()):
        out.append(OracleTick(asset, price, ts))
    for row in book_rows(frame):
        out.append(book_event(row))
    for token, price, size, side, ts in frame.get("T", ()):
        out.append(TradePrint(token, price, size, Side.BUY if side == "B" else Side.SELL, ts))
    for slug, winner, ts, final, ptb in frame.get("R", ()):
        out.append(Resolution(slug, Outcome(winner), ts, final, ptb))
    return out
