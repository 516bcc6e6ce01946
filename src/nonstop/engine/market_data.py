"""Market data owner: markets, books, spot and oracle prices as the venue reported them.

Step 3 of the cycle drains venue events into it; trading events (order updates,
fills, resolutions) are handed back for step 7.
"""

from __future__ import annotations

from collections import deque

from nonstop.markets import MarketInfo, window_start
from nonstop.venues.base import (Book, BookUpdate, Event, MarketListed, OracleTick, SpotTick,
                                 TradePrint)

_ORACLE_KEEP = 1200  # seconds of oracle samples kept: enough for a 15 m window plus a TWAP lookback


class MarketData:
    def __init__(self) -> None:
        self.markets: dict[str, MarketInfo] = {}
        self.books: dict[str, Book] = {}
        self.spot: dict[str, float] = {}
        self.spot_ts: dict[str, float] = {}
        self.oracle: dict[str, deque[tuple[float, float]]] = {}
        self.by_window: dict[tuple[str, str, int], MarketInfo] = {}
        self.events = 0
        self.prints = 0
        self._spot_listeners: list = []
        self._twap_memo: dict[tuple[str, float, float], float | None] = {}  # cleared on new data

    def on_spot(self, listener) -> None:  # type: ignore[no-untyped-def]
        self._spot_listeners.append(listener)

    def apply(self, events: list[Event]) -> list[Event]:
        """Absorb market data; return the trading events (orders, fills, resolutions) in order."""
        trading: list[Event] = []
        self._twap_memo.clear()
        for ev in events:
            kind = type(ev)
            if kind is BookUpdate:
                self.books[ev.book.token_id] = ev.book  # type: ignore[union-attr]
            elif kind is SpotTick:
                self.spot[ev.asset] = ev.price  # type: ignore[union-attr]
                self.spot_ts[ev.asset] = ev.ts  # type: ignore[union-attr]
                for listener in self._spot_listeners:
                    listener(ev)
            elif kind is OracleTick:
                samples = self.oracle.get(ev.asset)  # type: ignore[union-attr]
                if samples is None:
                    samples = self.oracle[ev.asset] = deque(maxlen=_ORACLE_KEEP)  # type: ignore[union-attr]
                if samples and ev.ts <= samples[-1][0]:  # type: ignore[union-attr]
                    if ev.ts == samples[-1][0]:  # type: ignore[union-attr]
                        samples[-1] = (ev.ts, ev.price)  # same-second correction  # type: ignore[union-attr]
                    continue
                samples.append((ev.ts, ev.price))  # type: ignore[union-attr]
            elif kind is MarketListed:
                info = ev.info  # type: ignore[union-attr]
                self.markets[info.slug] = info
                self.by_window[(info.asset, info.timeframe, info.start)] = info
            elif kind is TradePrint:
                self.prints += 1
            else:
                trading.append(ev)
        self.events += len(events)
        return trading

    def current_market(self, asset: str, timeframe: str, now: float) -> MarketInfo | None:
        return self.by_window.get((asset, timeframe, window_start(now, timeframe)))

    def oracle_last(self, asset: str) -> float | None:
        samples = self.oracle.get(asset)
        return samples[-1][1] if samples else None

    def twap(self, asset: str, until: float, lookback_s: float) -> float | None:
        """Mean of the oracle samples with until - lookback < ts <= until (memoised per cycle)."""
        key = (asset, until, lookback_s)
        if key in self._twap_memo:
            return self._twap_memo[key]
        value = self._twap_memo[key] = self._twap(asset, until, lookback_s)
        return value

    def _twap(self, asset: str, until: float, lookback_s: float) -> float | None:
        samples = self.oracle.get(asset)
        if not samples:
            return None
        total, count = 0.0, 0
        for ts, price in reversed(samples):
            if ts > until:
                continue
            if ts <= until - lookback_s:
                break
            total += price
            count += 1
        return total / count if count else None

    def forget_before(self, cutoff: float) -> None:
        """Drop markets that ended before `cutoff` (their resolution has long been handled)."""
        for slug in [s for s, m in self.markets.items() if m.end < cutoff]:
            info = self.markets.pop(slug)
            self.by_window.pop((info.asset, info.timeframe, info.start), None)
            self.books.pop(info.up_token, None)
            self.books.pop(info.down_token, None)
