"""The arithmetic of a backtest report: Wilson intervals, break-even win rates, drawdowns, groupings.

Pure functions over plain dicts (one dict per closed trade, see `report.trade_rows`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

Z95 = 1.959963984540054


def wilson(wins: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a win rate; (0, 1) when there is nothing to go on."""
    if n <= 0:
        return 0.0, 1.0
    p = wins / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def break_even(price: float, fee_rate: float = 0.07, exponent: float = 1.0) -> float:
    """The win probability a taker buy at `price` needs to break even after the fee: p + r (p(1-p))^e."""
    return price + fee_rate * (price * (1.0 - price)) ** exponent


def max_drawdown(pnls: Iterable[float]) -> tuple[float, float]:
    """(largest fall from a running peak of cumulative P&L, the peak it fell from)."""
    total, peak, worst, worst_peak = 0.0, 0.0, 0.0, 0.0
    for pnl in pnls:
        total += pnl
        if total > peak:
            peak = total
        if peak - total > worst:
            worst, worst_peak = peak - total, peak
    return worst, worst_peak


def summarize(trades: list[dict[str, Any]]) -> dict[str, Any]:
    """Headline figures of a set of closed trades."""
    n = len(trades)
    wins = sum(1 for t in trades if t["won"])
    shares = sum(t["shares"] for t in trades)
    cost = sum(t["cost"] for t in trades)
    fees = sum(t["fees"] for t in trades)
    pnl = sum(t["pnl"] for t in trades)
    lo, hi = wilson(wins, n)
    hurdle = sum(t["break_even"] for t in trades) / n if n else None
    ordered = sorted(trades, key=lambda t: t["closed_at"])
    dd, _ = max_drawdown(t["pnl"] for t in ordered)
    out: dict[str, Any] = {
        "trades": n, "wins": wins, "losses": n - wins,
        "win_rate": wins / n if n else None, "wilson95": [lo, hi],
        "break_even_win_rate": hurdle,
        "break_even_share_weighted": (cost + fees) / shares if shares else None,
        "avg_entry_price": cost / shares if shares else None,
        "pnl": pnl, "gross_pnl": pnl + fees, "fees": fees, "cost": cost,
        "pnl_per_trade": pnl / n if n else None,
        "roi": pnl / (cost + fees) if cost + fees else None,
        "max_drawdown": dd,
    }
    out["verdict"] = verdict(out)
    return out


def verdict(s: dict[str, Any]) -> str:
    """One sentence comparing the realised win rate with the one the prices and fees demand."""
    n, hurdle = s["trades"], s["break_even_win_rate"]
    if not n or hurdle is None:
        return "no trades"
    lo, hi = s["wilson95"]
    rate = s["win_rate"]
    if lo > hurdle:
        return f"edge: the 95% interval of the win rate ({lo:.1%}-{hi:.1%}) is above the break-even {hurdle:.1%}"
    if hi < hurdle:
        return f"losing: the 95% interval of the win rate ({lo:.1%}-{hi:.1%}) is below the break-even {hurdle:.1%}"
    return (f"inconclusive: win rate {rate:.1%} ({lo:.1%}-{hi:.1%}) against a break-even of {hurdle:.1%}; "
            f"more trades are needed")


def group(trades: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> dict[str, dict[str, Any]]:
    buckets: dict[Any, list[dict[str, Any]]] = {}
    for t in trades:
        buckets.setdefault(key(t), []).append(t)
    return {str(k): summarize(v) for k, v in sorted(buckets.items(), key=lambda kv: str(kv[0]))}


PRICE_BINS = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 1.0)
SECONDS_BINS = (0, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900)


def calibration(trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entry price against outcome: per price band, the mean price paid and the share of wins."""
    rows = []
    for lo, hi in zip(PRICE_BINS, PRICE_BINS[1:]):
        inside = [t for t in trades if lo <= t["entry_price"] < hi or (hi == 1.0 and t["entry_price"] == 1.0)]
        if not inside:
            continue
        wins = sum(1 for t in inside if t["won"])
        w_lo, w_hi = wilson(wins, len(inside))
        mean = sum(t["entry_price"] for t in inside) / len(inside)
        rows.append({"band": [lo, hi], "trades": len(inside), "mean_price": mean, "win_rate": wins / len(inside),
                     "wilson95": [w_lo, w_hi], "break_even": sum(t["break_even"] for t in inside) / len(inside),
                     "pnl": sum(t["pnl"] for t in inside)})
    return rows


def by_seconds_left(trades: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """P&L by how many seconds before the window's close the entry filled."""
    rows = []
    edges = list(SECONDS_BINS) + [math.inf]
    for lo, hi in zip(edges, edges[1:]):
        inside = [t for t in trades if t["seconds_left"] is not None and lo <= t["seconds_left"] < hi]
        if not inside:
            continue
        wins = sum(1 for t in inside if t["won"])
        rows.append({"band": [lo, None if hi == math.inf else hi], "trades": len(inside), "wins": wins,
                     "win_rate": wins / len(inside), "pnl": sum(t["pnl"] for t in inside),
                     "fees": sum(t["fees"] for t in inside)})
    return rows
