"""The slack: the rest of a cycle's period, after the cycle. Work no tick waits for goes here.

A cycle takes under a millisecond of a one-second period. After it, `Engine.between_cycles`
writes status.json (the cycle's step 8), does the registry's off-cycle reload work (changed
files read, hashed and planned, jobs to the validator, its results, running validated module
bodies, the .generations/ bookkeeping), writes a changed generation history to the journal,
and runs Python's cyclic garbage collector when it is due.

The collector is here because Python runs it whenever allocations cross a threshold, that
is, in the middle of whichever cycle crosses it. Measured on this engine (16 slots): a full
collection took ~20 ms and a middle one 1-4 ms, inside a cycle whose budget is 1 ms; and a
swap's old module (its classes and functions) is cyclic garbage that only the collector
frees. While `Engine.run` runs, automatic collection is off (`deferred`) and the same
thresholds are checked after each cycle instead (`collect_due`).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

FULL_SHARE = 0.02  # full collections may take at most this share of the time (Python's own guard is
                   # "a quarter more long-lived objects"; this one needs no count of the heap)


@dataclass
class Collector:
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    last_ms: float = 0.0
    max_ms: float = 0.0
    _full_ms: float = 0.0
    _full_at: float = float("-inf")

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Automatic collection off for the block; `collect_due` after each cycle does its work."""
        was = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was:
                gc.enable()

    def collect_due(self) -> int | None:
        """Collect the oldest generation whose threshold is passed (Python's rule); the generation or None."""
        if gc.isenabled():
            return None  # automatic collection is on: it does this itself
        counts, limits = gc.get_count(), gc.get_threshold()
        due = [g for g in range(3) if limits[g] and counts[g] >= limits[g]]
        now = time.monotonic()
        if due and due[-1] == 2 and (now - self._full_at) * FULL_SHARE < self._full_ms / 1e3:
            due.pop()  # a big heap: full collections spaced so they stay a small share of the time
        if not due:
            return None
        gen = due[-1]
        t0 = time.perf_counter_ns()
        gc.collect(gen)
        self.last_ms = (time.perf_counter_ns() - t0) / 1e6
        self.max_ms = max(self.max_ms, self.last_ms)
        self.collections[gen] += 1
        if gen == 2:
            self._full_ms, self._full_at = self.last_ms, now
        return gen
