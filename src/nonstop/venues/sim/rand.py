"""Seeded randomness that depends on *what* is drawn, never on *when* it is asked for.

Numpy generators are keyed by (seed, stream, ids...) so a chunk of path is the same however
the simulator is driven. Cheap per-call noise (book jitter, ladder sizes) comes from a fixed
table of normals indexed by a hash of integer keys: a few hundred ns instead of building a
generator for every book.
"""

from __future__ import annotations

import numpy as np

# Stream ids keep the generators of different features independent.
PRICE, ORACLE, FLOW, NOISE, WINDOW = 1, 2, 3, 4, 5

_MASK64 = (1 << 64) - 1
_TABLE_BITS = 16


def generator(seed: int, stream: int, *ids: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed & _MASK64, stream, *[i & _MASK64 for i in ids]]))


def mix(*keys: int) -> int:
    """A stable 64-bit hash of integer keys (Python's hash() is not promised stable across versions):
    FNV-style folding of the keys, then the splitmix64 finaliser to spread the bits."""
    h = 0xCBF29CE484222325
    for k in keys:
        h = ((h ^ (k & _MASK64)) * 0x100000001B3) & _MASK64
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
    return h ^ (h >> 31)


class NoiseTable:
    """Deterministic standard normals and uniforms looked up by integer keys."""

    def __init__(self, seed: int) -> None:
        rng = generator(seed, NOISE)
        self._normal: list[float] = rng.standard_normal(1 << _TABLE_BITS).tolist()
        self._mask = (1 << _TABLE_BITS) - 1

    def normal(self, *keys: int) -> float:
        return self._normal[mix(*keys) & self._mask]

    def normals(self, n: int, *keys: int) -> list[float]:
        """n consecutive table entries from one hash: cheap correlated-free draws for a ladder."""
        i = mix(*keys) & self._mask
        table = self._normal
        if i + n <= len(table):
            return table[i:i + n]
        return [table[(i + j) & self._mask] for j in range(n)]

    def normal_and_uniform(self, *keys: int) -> tuple[float, float]:
        """An independent normal and uniform from one hash (low bits index the table, high bits the uniform)."""
        h = mix(*keys)
        return self._normal[h & self._mask], (h >> 32) * (1.0 / (1 << 32))

    def uniform(self, *keys: int) -> float:
        return (mix(*keys) >> 11) * (1.0 / (1 << 53))
