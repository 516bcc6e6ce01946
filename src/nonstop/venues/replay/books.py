"""Books decoded on first use: a recorded book's levels stay a string until someone reads them.

Most books a replay releases are replaced before any strategy looks at them (a strategy reads
its window's books only in its last seconds, markets listed ahead are never read), and building
the `Level` objects of every book would cost more than the rest of the replay together.
`LazyBook` is a `Book` in every way a reader can see; its levels are parsed once, on first access.
"""

from __future__ import annotations

from typing import Any, Sequence

from nonstop.venues.base import Book, Level
from nonstop.venues.sim.ladders import make_level

_BIDS = Book.__dict__["bids"]  # the slot descriptors of Book, shadowed below by properties
_ASKS = Book.__dict__["asks"]


def parse_levels(text: str) -> tuple[Level, ...]:
    if not text:
        return ()
    return tuple([make_level(float(p), float(s)) for p, s in (item.split(":") for item in text.split(","))])


def _first_price(text: str) -> float | None:
    """The first level's price, as parse_levels would give it, without parsing the others."""
    return float(text[:text.find(":")]) if text else None


class LazyBook(Book):
    __slots__ = ("_raw",)
    _raw: Sequence[Any]  # a recorded `B` row [token, ts, bids, asks]: the level strings are [2] and [3]

    def __init__(self, token_id: str, raw_bids: str, raw_asks: str, ts: float) -> None:
        object.__setattr__(self, "token_id", token_id)
        object.__setattr__(self, "ts", ts)
        object.__setattr__(self, "_raw", (token_id, ts, raw_bids, raw_asks))

    @property  # type: ignore[override]
    def bids(self) -> tuple[Level, ...]:
        try:
            return _BIDS.__get__(self)  # type: ignore[no-any-return]
        except AttributeError:
            levels = parse_levels(self._raw[2])
            _BIDS.__set__(self, levels)
            return levels

    @property  # type: ignore[override]
    def asks(self) -> tuple[Level, ...]:
        try:
            return _ASKS.__get__(self)  # type: ignore[no-any-return]
        except AttributeError:
            levels = parse_levels(self._raw[3])
            _ASKS.__set__(self, levels)
            return levels

    # The touch alone is what most readers want (a strategy's ask, the gate's price): read from the
    # string, the same float the parsed first level holds (levels never change once recorded). Always
    # from the string: asking whether the levels were parsed costs a caught AttributeError, ~3x more.
    @property
    def best_bid(self) -> float | None:
        return _first_price(self._raw[2])

    @property
    def best_ask(self) -> float | None:
        return _first_price(self._raw[3])

    @property
    def mid(self) -> float | None:
        bid, ask = self.best_bid, self.best_ask
        return (bid + ask) / 2.0 if bid is not None and ask is not None else None

    @property
    def spread(self) -> float | None:
        bid, ask = self.best_bid, self.best_ask
        return ask - bid if bid is not None and ask is not None else None

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Book):
            return NotImplemented
        return (self.token_id, self.bids, self.asks, self.ts) == (other.token_id, other.bids, other.asks, other.ts)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:  # pickles as a plain Book
        return (Book, (self.token_id, self.bids, self.asks, self.ts))
