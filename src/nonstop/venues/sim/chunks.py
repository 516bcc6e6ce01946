"""Series generated an hour at a time from a carried state, per asset.

Chunks are always generated in order from the origin, each from the previous one's carry, so a
value depends on (seed, asset, second) only, never on how the simulator is driven; only the
latest KEEP_CHUNKS hours stay in memory and an older one is regenerated identically if asked for.
"""

from __future__ import annotations

from typing import Any, Generic, Iterable, Protocol, TypeVar

CHUNK_S = 3600
KEEP_CHUNKS = 4  # hours kept in memory per asset


class _HasCarry(Protocol):
    carry: Any


C = TypeVar("C", bound=_HasCarry)


class ChunkedSeries(Generic[C]):
    _before_origin = "second {k} is before the origin {origin}"

    def __init__(self, origin: int, assets: Iterable[str]) -> None:
        self.origin = origin
        self._chunks: dict[str, dict[int, C]] = {a: {} for a in assets}
        self._carries: dict[str, list[Any]] = {a: [] for a in self._chunks}

    def _generate(self, asset: str, c: int, carry: Any) -> C:
        raise NotImplementedError

    def _at(self, asset: str, k: int) -> tuple[C, int]:
        off = k - self.origin
        if off < 0:
            raise ValueError(self._before_origin.format(k=k, origin=self.origin))
        c = off // CHUNK_S
        chunk = self._chunks[asset].get(c)
        if chunk is None:
            chunk = self._load(asset, c)
        return chunk, off - c * CHUNK_S

    def _load(self, asset: str, c: int) -> C:
        """Generate chunk c (and any before it never generated), keeping only the latest few in memory."""
        chunks, carries = self._chunks[asset], self._carries[asset]
        while len(carries) <= c:
            i = len(carries)
            chunk = self._generate(asset, i, carries[i - 1] if i else None)
            carries.append(chunk.carry)
            chunks[i] = chunk
        chunk = chunks.get(c) or self._generate(asset, c, carries[c - 1] if c else None)
        chunks[c] = chunk
        while len(chunks) > KEEP_CHUNKS:
            del chunks[min(k for k in chunks if k != c)]
        return chunk
