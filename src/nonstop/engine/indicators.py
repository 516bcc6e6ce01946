"""The indicator engine: signal values per asset, scoped to the current candle window.

Owns its own memory (a short spot history per asset); strategies see a
read-only snapshot in `ctx.indicators`. Survives strategy reloads untouched.
"""

from __future__ import annotations

import math
from collections import deque
from types import MappingProxyType
from typing import Any, Mapping

from nonstop.venues.base import SpotTick

_KEEP = 900  # seconds of spot history


_SIGMA_N = 300  # returns in the realised-volatility estimate
_LAGS = tuple((lag, f"ret_{lag}s", -1 - lag) for lag in (10, 30, 60))  # the returns offered, with their names


class _RollingVar:
    """Running mean/variance of the last n values, O(1) per update."""

    def __init__(self, n: int) -> None:
        self.values: deque[float] = deque()
        self.n, self.total, self.total_sq = n, 0.0, 0.0

    def push(self, x: float) -> None:
        self.values.append(x)
        self.total += x
        self.total_sq += x * x
        if len(self.values) > self.n:
            old = self.values.popleft()
            self.total -= old
            self.total_sq -= old * old

    def std(self) -> float:
        m = len(self.values)
        if m < 10:
            return 0.0
        var = (self.total_sq - self.total * self.total / m) / (m - 1)
        return math.sqrt(var) if var > 0 else 0.0


class IndicatorEngine:
    def __init__(self) -> None:
        self._spot: dict[str, deque[tuple[float, float]]] = {}
        self._rets: dict[str, _RollingVar] = {}
        self._window_open: dict[tuple[str, str, int], float] = {}
        # Slots sharing an asset and window see the same values: computed once per new tick.
        self._memo: dict[tuple[str, str, int, float | None], Mapping[str, float]] = {}

    def on_spot(self, tick: SpotTick, _log: Any = math.log) -> None:
        self._memo.clear()
        hist = self._spot.get(tick.asset)
        if hist is None:
            hist = self._spot[tick.asset] = deque(maxlen=_KEEP)
            self._rets[tick.asset] = _RollingVar(_SIGMA_N)
        else:
            last, price = hist[-1][1], tick.price
            if last > 0 and price > 0:
                # _RollingVar.push, inlined: every spot tick of every asset comes through here
                rv, x = self._rets[tick.asset], _log(price / last)
                values = rv.values
                values.append(x)
                rv.total += x
                rv.total_sq += x * x
                if len(values) > rv.n:
                    old = values.popleft()
                    rv.total -= old
                    rv.total_sq -= old * old
        hist.append((tick.ts, tick.price))

    def note_window(self, asset: str, timeframe: str, window_start: int) -> bool:
        """Note the window's opening spot: the latest spot once it is at or after the window's start.
        Called when a slot looks at its window, so that the value does not depend on whether (or
        when) a strategy reads its indicators; `values` notes it too. True once noted."""
        key = (asset, timeframe, window_start)
        if key in self._window_open:
            return True
        hist = self._spot.get(asset)
        if hist and hist[-1][0] >= window_start:
            self._window_open[key] = hist[-1][1]
            return True
        return False

    def values(self, asset: str, timeframe: str, window_start: int, oracle: float | None) -> Mapping[str, float]:
        """A read-only snapshot, shared by every slot on the same asset and window this cycle."""
        memo_key = (asset, timeframe, window_start, oracle)
        cached = self._memo.get(memo_key)
        if cached is None:
            cached = self._memo[memo_key] = MappingProxyType(self._compute(asset, timeframe, window_start, oracle))
        return cached

    def _compute(self, asset: str, timeframe: str, window_start: int, oracle: float | None) -> dict[str, float]:
        hist = self._spot.get(asset)
        if not hist:
            return {}
        spot = hist[-1][1]
        self.note_window(asset, timeframe, window_start)
        out: dict[str, float] = {"spot": spot}
        n = len(hist)
        for lag, name, back in _LAGS:
            if n > lag:
                out[name] = spot / hist[back][1] - 1.0
        out["sigma_1s"] = self._rets[asset].std()
        if oracle is not None:
            out["basis"] = spot - oracle
        opened = self._window_open.get((asset, timeframe, window_start))
        if opened is not None:
            out["window_open_spot"] = opened
            out["window_ret"] = spot / opened - 1.0
        return out

    def end_window(self, asset: str, timeframe: str, window_start: int) -> None:
        self._window_open.pop((asset, timeframe, window_start), None)
