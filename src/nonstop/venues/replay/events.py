"""The events a replay releases, built without their dataclasses' generated `__init__`.

The event classes are frozen slotted dataclasses: their `__init__` sets each field through
`object.__setattr__`, about 0.1 µs a field, and a replay builds some sixty events a cycle.
Filling the slots through their descriptors gives the very same objects (same class, same
fields, equal, hashable, picklable) for about half the cost.
"""

from __future__ import annotations

from typing import Any

from nonstop.venues.base import Book, BookUpdate, OracleTick, Side, SpotTick, TradePrint
from nonstop.venues.replay.books import LazyBook

_new = object.__new__


def _setters(cls: type, *names: str) -> tuple[Any, ...]:
    return tuple(cls.__dict__[name].__set__ for name in names)


_SPOT = _setters(SpotTick, "asset", "price", "ts")
_ORACLE = _setters(OracleTick, "asset", "price", "ts")
_PRINT = _setters(TradePrint, "token_id", "price", "size", "taker_side", "ts")
_UPDATE = _setters(BookUpdate, "book")[0]
_LAZY = (*_setters(Book, "token_id", "ts"), *_setters(LazyBook, "_raw"))
_SIDES = {"B": Side.BUY, "S": Side.SELL}


def _asset_ticks(rows: list[list[Any]], cls: type, setters: tuple[Any, ...]) -> list[Any]:
    a, p, t = setters
    out = []
    for asset, price, ts in rows:
        ev: Any = _new(cls)
        a(ev, asset), p(ev, price), t(ev, ts)
        out.append(ev)
    return out


def spot_ticks(rows: list[list[Any]]) -> list[SpotTick]:
    """`S` records [asset, price, ts] as SpotTicks."""
    return _asset_ticks(rows, SpotTick, _SPOT)


def oracle_ticks(rows: list[list[Any]]) -> list[OracleTick]:
    """`O` records [asset, price, ts] as OracleTicks."""
    return _asset_ticks(rows, OracleTick, _ORACLE)


def trade_prints(rows: list[list[Any]], s: tuple[Any, ...] = _PRINT, sides: dict[str, Side] = _SIDES) -> list[TradePrint]:
    """`T` records [token, price, size, "B"|"S", ts] as TradePrints."""
    out = []
    s0, s1, s2, s3, s4 = s
    for token, price, size, side, ts in rows:
        ev = _new(TradePrint)
        s0(ev, token), s1(ev, price), s2(ev, size), s3(ev, sides[side]), s4(ev, ts)
        out.append(ev)
    return out


def book_updates(rows: Any, u: Any = _UPDATE, s: tuple[Any, ...] = _LAZY) -> list[BookUpdate]:
    """`B` records [token, ts, bids, asks] as BookUpdates of LazyBooks (levels parsed on first read)."""
    out = []
    s0, s1, s2 = s
    for row in rows:
        book = _new(LazyBook)
        s0(book, row[0]), s1(book, row[1]), s2(book, row)
        ev = _new(BookUpdate)
        u(ev, book)
        out.append(ev)
    return out
