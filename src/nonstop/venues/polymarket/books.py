"""Local order books kept from the market channel: `book` snapshots, then `price_change` deltas.

A delta whose token has no snapshot yet is ignored (the REST resync or the next dump fills it);
after a socket gap the books are marked stale until a REST snapshot replaces them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable

from nonstop.venues.base import Book, Level


class LocalBook:
    __slots__ = ("token_id", "bids", "asks", "ts", "stale")

    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        self.bids: dict[float, float] = {}
        self.asks: dict[float, float] = {}
        self.ts = 0.0
        self.stale = True

    def snapshot(self, bids: Iterable[Any], asks: Iterable[Any], ts: float) -> None:
        """Replace the book (levels with .price/.size as Decimal or str)."""
        self.bids = {_f(lv.price): _f(lv.size) for lv in bids if _f(lv.size) > 0}
        self.asks = {_f(lv.price): _f(lv.size) for lv in asks if _f(lv.size) > 0}
        self.ts = max(self.ts, ts)
        self.stale = False

    def change(self, price: Any, size: Any, side: str, ts: float) -> bool:
        """Apply one level's new total size; False when the book has no snapshot to apply it to."""
        if self.stale:
            return False
        levels = self.bids if side == "BUY" else self.asks
        p, s = _f(price), _f(size)
        if s <= 0:
            levels.pop(p, None)
        else:
            levels[p] = s
        self.ts = max(self.ts, ts)
        return True

    def book(self) -> Book:
        bids = tuple(Level(p, self.bids[p]) for p in sorted(self.bids, reverse=True))
        asks = tuple(Level(p, self.asks[p]) for p in sorted(self.asks))
        return Book(self.token_id, bids, asks, self.ts)


def _f(x: Any) -> float:
    return float(x) if not isinstance(x, Decimal) else float(x)
