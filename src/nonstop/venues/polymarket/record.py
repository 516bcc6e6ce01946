"""Recording the venue's market data in the replay format (`nonstop.venues.replay`, FORMAT.md).

Frames are stamped on the engine's cycle grid: `t0 + k * period`, where t0 is the first poll and
k counts the polls (the engine polls once per cycle; a late cycle is still cycle k). A replay
started at t0 with the same period releases at its cycle k exactly what the live cycle k
received, so the same strategy makes the same decisions. Account events are never recorded.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

from nonstop.venues.base import BookUpdate, Event, MarketListed, OracleTick, Resolution, SpotTick, TradePrint
from nonstop.venues.replay.writer import MarketDataWriter

MARKET_DATA = (MarketListed, BookUpdate, TradePrint, SpotTick, OracleTick, Resolution)


class Recorder:
    def __init__(self, path: str | Path, period_s: float, meta: dict[str, Any] | None = None) -> None:
        self.path, self.period, self.meta = Path(path), float(period_s), meta or {}
        self.t0: float | None = None
        self.polls = 0
        self.writer: MarketDataWriter | None = None

    def observe(self, now: float, events: Iterable[Event]) -> None:
        if self.t0 is None:
            self.t0 = now
            self.writer = MarketDataWriter(self.path, source="polymarket", start_time=now, period_s=self.period,
                                           meta=self.meta)
        assert self.writer is not None
        k, self.polls = self.polls, self.polls + 1
        market = [_finite(e) for e in events if isinstance(e, MARKET_DATA)]
        if market:
            self.writer.write(self.t0 + k * self.period, market)

    def close(self) -> Path | None:
        if self.writer is None:
            return None
        return self.writer.close()


def _finite(ev: Event) -> Event:
    """The format has no NaN: a resolution whose final value was not published yet records 0.0."""
    if isinstance(ev, Resolution) and not (math.isfinite(ev.final_value) and math.isfinite(ev.price_to_beat)):
        return replace(ev, final_value=ev.final_value if math.isfinite(ev.final_value) else 0.0,
                       price_to_beat=ev.price_to_beat if math.isfinite(ev.price_to_beat) else 0.0)
    return ev
