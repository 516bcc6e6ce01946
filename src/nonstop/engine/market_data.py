"""Market data owner: markets, books, spot and oracle prices as the venue reported them.

Step 3 of the cycle drains venue events into it; trading events (order updates,
fills, resolutions) are handed back for step 7.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

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
        self.oracle_price: dict[str, float] = {}  # asset -> its latest oracle sample's price (oracle_last)
        self.by_window: dict[tuple[str, str, int], MarketInfo] = {}
        self.events = 0
        self.prints = 0
        self.listings = 0  # bumped whenever `by_window` changes: who holds a current market looks again
        self._spot_listeners: list[Callable[[SpotTick], Any]] = []
        self._twap_memo: dict[tuple[str, float, float], float | None] = {}  # cleared on new data
        self._starts: dict[str, tuple[float, int]] = {}  # timeframe -> (now, window start) last asked
        self._first_end = float("inf")  # the earliest end of a market held (forget_before's shortcut)

    def on_spot(self, listener: Callable[[SpotTick], Any]) -> None:
        self._spot_listeners.append(listener)

    def apply(self, events: list[Event]) -> list[Event]:
        """Absorb market data; return the trading events (orders, fills, resolutions) in order."""
        trading: list[Event] = []
        self._twap_memo.clear()
        books, spot, spot_ts, listeners = self.books, self.spot, self.spot_ts, self._spot_listeners
        prints = 0
        ev: Any
        for ev in events:
            # Exact type checks, the commonest kinds first: the hot path of every cycle (tens of events).
            kind = type(ev)
            if kind is BookUpdate:
                book = ev.book
                books[book.token_id] = book
            elif kind is TradePrint:
                prints += 1
            elif kind is SpotTick:
                spot[ev.asset] = ev.price
                spot_ts[ev.asset] = ev.ts
                for listener in listeners:
                    listener(ev)
            elif kind is OracleTick:
                self._add_oracle(ev)
            elif kind is MarketListed:
                info = ev.info
                self.markets[info.slug] = info
                self.by_window[(info.asset, info.timeframe, info.start)] = info
                if info.end < self._first_end:
                    self._first_end = info.end
                self.listings += 1
            else:
                trading.append(ev)
        self.prints += prints
        self.events += len(events)
        return trading

    def _add_oracle(self, tick: OracleTick) -> None:
        samples = self.oracle.get(tick.asset)
        if samples is None:
            samples = self.oracle[tick.asset] = deque(maxlen=_ORACLE_KEEP)
        if samples and tick.ts <= samples[-1][0]:
            if tick.ts == samples[-1][0]:
                samples[-1] = (tick.ts, tick.price)  # a same-second correction replaces the sample
                self.oracle_price[tick.asset] = tick.price
            return
        samples.append((tick.ts, tick.price))
        self.oracle_price[tick.asset] = tick.price

    def current_market(self, asset: str, timeframe: str, now: float) -> MarketInfo | None:
        last = self._starts.get(timeframe)
        if last is None or last[0] != now:  # every slot asks at the same `now`: one computation a timeframe
            last = self._starts[timeframe] = (now, window_start(now, timeframe))
        return self.by_window.get((asset, timeframe, last[1]))

    def oracle_last(self, asset: str) -> float | None:
        return self.oracle_price.get(asset)

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
        if cutoff <= self._first_end:
            return  # nothing ended that long ago: no need to look at every market
        for slug in [s for s, m in self.markets.items() if m.end < cutoff]:
            info = self.markets.pop(slug)
            self.by_window.pop((info.asset, info.timeframe, info.start), None)
            self.books.pop(info.up_token, None)
            self.books.pop(info.down_token, None)
            self.listings += 1
        self._first_end = min((m.end for m in self.markets.values()), default=float("inf"))
