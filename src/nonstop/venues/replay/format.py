"""The nonstop market-data format, version 1 (see FORMAT.md beside this file).

A gzip stream of JSON lines: one header line, then one *frame* per receive time, then one end
line. A frame groups the public market-data events the venue delivered at one receive time
`t`, by kind. Book levels are packed into one string per side ("price:size,price:size") so a
reader can skip the books it does not need without building a float per level.

Floats are written with Python's shortest round-trip repr, so a replay sees bit-identical values.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nonstop.markets import MarketInfo, Outcome
from nonstop.venues.base import (Book, BookUpdate, Event, Level, MarketListed, OracleTick, Resolution, Side,
                                 SpotTick, TradePrint)

FORMAT_NAME = "nonstop-market-data"
FORMAT_VERSION = 1
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
    for row in frame.get("B", ()):
        out.append(book_event(row))
    for token, price, size, side, ts in frame.get("T", ()):
        out.append(TradePrint(token, price, size, Side.BUY if side == "B" else Side.SELL, ts))
    for slug, winner, ts, final, ptb in frame.get("R", ()):
        out.append(Resolution(slug, Outcome(winner), ts, final, ptb))
    return out
