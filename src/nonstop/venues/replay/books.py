"""Books decoded on first use: a recorded book's levels stay a string until someone reads them.

Most books a replay releases are replaced before any strategy looks at them (a strategy reads
its window's books only in its last seconds, markets listed ahead are never read), and building
the `Level` objects of every book would cost more than the rest of the replay together.
`LazyBook` is a `Book` in every way a reader can see; its levels are parsed once, on first access.
"""

from __future__ import annotations

from typing import Any, Sequence

from nonstop.venues.base import Book, Level

_BIDS = Book.__dict__["bids"]  # the slot descriptors of Book, shadowed below by properties
_ASKS = Book.__dict__["asks"]


def parse_levels(text: str) -> tuple[Level, ...]:
    if not text:
        return ()
    return tuple(Level(float(p), float(s)) for p, s in (item.split(":") for item in text.split(",")))


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

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, Book):
            return NotImplemented
        return (self.token_id, self.bids, self.asks, self.ts) == (other.token_id, other.bids, other.asks, other.ts)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> Any:  # pickles as a plain Book
        return (Book, (self.token_id, self.bids, self.asks, self.ts))
