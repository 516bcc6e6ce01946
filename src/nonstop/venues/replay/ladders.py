"""Recorded books as the sim's matcher sees books: an Up ladder in thousandths at any venue time.

The simulator's `Matcher` asks its book source for `ladder(market, t)`; in the sim that is the
market makers' model, here it is the latest recorded book with a timestamp at or before `t`.
Only markets with orders of ours keep a timeline of books (everything else needs just the
latest), so the cost of precise fills is paid where there is something to fill.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from nonstop.venues.sim.windows import SimMarket

Ladder = list[tuple[int, float]]
Row = list[Any]  # [token, ts, bids "p:s,...", asks "p:s,..."] as read from a frame
_EPS_S = 1e-6  # timestamps of ~1.8e9 s carry ~2.4e-7 s of float error
_KEEP_S = 60.0  # timeline kept behind the clock: recovery of taken liquidity fades within 10 x 2.7 s


def parse_side(text: str, mirror: bool = False) -> Ladder:
    if not text:
        return []
    out: Ladder = []
    for item in text.split(","):
        price, size = item.split(":")
        p = int(float(price) * 1000.0 + 0.5)
        out.append((1000 - p if mirror else p, float(size)))
    return out


class RecordedLadders:
    def __init__(self) -> None:
        self.latest: dict[str, Row] = {}  # token -> latest row read (the venue fills it)
        self.timelines: dict[int, tuple[list[float], list[Row]]] = {}  # market key -> (ts, Up rows)
        self._parsed: dict[int, tuple[Row, tuple[Ladder, Ladder]]] = {}

    def watch(self, m: SimMarket) -> None:
        """Start keeping every book of `m` (an order of ours is on its way there)."""
        if m.key in self.timelines:
            return
        row = self._up_row(m)
        self.timelines[m.key] = ([row[1]], [row]) if row is not None else ([], [])

    def unwatch(self, m: SimMarket) -> None:
        self.timelines.pop(m.key, None)
        self._parsed.pop(m.key, None)

    def record(self, m: SimMarket, row: Row) -> None:
        """A new Up book of a watched market (the Down book is its mirror in the sim's terms)."""
        line = self.timelines[m.key]
        line[0].append(row[1])
        line[1].append(row)

    def prune(self, m: SimMarket, now: float) -> None:
        ts, rows = self.timelines[m.key]
        cut = bisect_right(ts, now - _KEEP_S) - 1
        if cut > 0:
            del ts[:cut]
            del rows[:cut]

    def ladder(self, m: SimMarket, t: float) -> tuple[Ladder, Ladder]:
        """The Up bids and asks at `t`, best first (the sim's BookMaker.ladder signature)."""
        line = self.timelines.get(m.key)
        row: Row | None
        if line is not None and line[0]:
            i = bisect_right(line[0], t + _EPS_S) - 1
            row = line[1][max(i, 0)]
        else:
            row = self._up_row(m)
        if row is None:
            return [], []
        cached = self._parsed.get(m.key)
        if cached is not None and cached[0] is row:
            return cached[1]
        if row[0] == m.info.up_token:
            ladder = (parse_side(row[2]), parse_side(row[3]))
        else:  # a Down book: its asks at q are Up bids at 1 - q
            ladder = (parse_side(row[3], mirror=True), parse_side(row[2], mirror=True))
        self._parsed[m.key] = (row, ladder)
        return ladder

    def _up_row(self, m: SimMarket) -> Row | None:
        row = self.latest.get(m.info.up_token)
        return row if row is not None else self.latest.get(m.info.down_token)
