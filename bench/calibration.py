"""Calibrate the simulator against the microstructure reference (updown-microstructure.md §1, §3.9).

Runs SimExchange alone at 1 s steps for --days of venue time, samples every window's Up book at
T-60, and prints measured figures beside the reference targets. Last line: one JSON object.

    .venv/bin/python bench/calibration.py --days 4 --seed 1 [--rule spot]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import defaultdict
from typing import Literal

from nonstop.markets import MarketInfo, Outcome
from nonstop.strategy import fair_up_probability
from nonstop.venues.base import Fill, MarketListed, OrderRequest, OrderType, Resolution, Side
from nonstop.venues.sim import SimConfig, SimExchange
from nonstop.venues.sim.windows import make_market

BUCKETS = [(0.95, 1.01, "95+", 0.7), (0.90, 0.95, "90-95", 5.9), (0.85, 0.90, "85-90", 11.1),
           (0.80, 0.85, "80-85", 16.9), (0.70, 0.80, "70-80", 26.0), (0.60, 0.70, "60-70", 29.0),
           (0.50, 0.60, "50-60", 48.0)]
VOLUME_TARGETS = {"BTC 5m": "90-100k", "BTC 15m": "70-85k", "ETH 15m": "~40k", "SOL 15m": "11-21k",
                  "XRP 15m": "11-21k", "BNB 5m": "a few hundred"}
NAIVE_MARKETS = {("BTC", "5m"), ("BTC", "15m"), ("ETH", "15m")}
NAIVE_EDGE = 0.02  # buy when the exchange-implied probability leads the book mid by this much
NAIVE_SHARES = 10.0
NAIVE_COOLDOWN_S = 5


class NaiveTaker:
    """Chases the fast exchange price: buys the side it points to whenever the book lags behind."""

    def __init__(self, ex: SimExchange) -> None:
        self.ex = ex
        self.ptb: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.cost: dict[str, float] = defaultdict(float)
        self.shares: dict[tuple[str, Outcome], float] = defaultdict(float)
        self.pnl = 0.0
        self.trades = 0
        self.n = 0

    def step(self, now: float, markets: list[MarketInfo]) -> None:
        for info in markets:
            if (info.asset, info.timeframe) not in NAIVE_MARKETS or not info.start <= now < info.end - 5:
                continue
            spot = self.ex.paths.price(info.asset, math.floor(now))  # the SpotTick it just received
            ptb = self.ptb.setdefault(info.slug, self.ex.paths.price(info.asset, info.start))
            sigma = self.ex.config.asset(info.asset).annual_vol / math.sqrt(31_536_000)
            fair = fair_up_probability(spot, ptb, info.end - now, sigma, 1e-9)
            book = self.ex.book(info.up_token)
            if book is None or book.mid is None or now - self.last.get(info.slug, -1e9) < NAIVE_COOLDOWN_S:
                continue
            if abs(fair - book.mid) < NAIVE_EDGE:
                continue
            outcome = Outcome.UP if fair > book.mid else Outcome.DOWN
            side_book = book if outcome is Outcome.UP else self.ex.book(info.down_token)
            if side_book is None or side_book.best_ask is None:
                continue
            tick = info.tick_size
            limit = round(min(side_book.best_ask + tick, 1 - tick), 3)
            self.n += 1
            self.last[info.slug] = now
            self.ex.place(OrderRequest(f"n{self.n}", info.slug, info.token(outcome), outcome, Side.BUY, limit,
                                       NAIVE_SHARES, OrderType.FAK), now, account="naive")

    def on_fill(self, f: Fill) -> None:
        self.cost[f.slug] += f.price * f.size + f.fee
        self.shares[(f.slug, f.outcome)] += f.size
        self.trades += 1

    def on_resolution(self, r: Resolution) -> None:
        if r.slug in self.cost:
            self.pnl += self.shares.pop((r.slug, r.winner), 0.0) - self.cost.pop(r.slug)
            self.shares.pop((r.slug, r.winner.other), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rule", choices=["spot", "twap"], default="spot", help="flip statistics were measured under spot")
    args = ap.parse_args()
    cfg = SimConfig(resolution_rule=args.rule)
    ex = SimExchange(args.seed, cfg)
    naive = NaiveTaker(ex)
    t0, total = int(ex.start_time), int(args.days * 86_400)
    infos: dict[str, MarketInfo] = {}
    at_t60: dict[str, float] = {}  # slug -> Up mid at T-60
    spreads: dict[str, list[float]] = defaultdict(list)
    outcomes: list[tuple[str, str, float, bool]] = []  # asset, timeframe, favourite price, flipped
    volumes: dict[str, list[float]] = defaultdict(list)
    wall = time.perf_counter()
    for i in range(1, total + 1):
        now = float(t0 + i)
        for d in ex.advance(now, books=False):
            e = d.event
            if isinstance(e, MarketListed):
                infos[e.info.slug] = e.info
            elif isinstance(e, Fill) and d.account == "naive":
                naive.on_fill(e)
            elif isinstance(e, Resolution):
                naive.on_resolution(e)
                info = infos.pop(e.slug)
                volumes[f"{info.asset} {info.timeframe}"].append(ex.volume.get(e.slug, 0.0))
                mid = at_t60.pop(e.slug, None)
                if mid is not None:
                    fav_up = mid >= 0.5
                    outcomes.append((info.asset, info.timeframe, max(mid, 1 - mid),
                                     (e.winner is Outcome.UP) != fav_up))
        live = [m for m in ex.markets() if m.start <= now < m.end]
        for m in live:
            if m.end - now == 60:
                b = ex.book(m.up_token)
                if b is not None and b.mid is not None:
                    at_t60[m.slug] = b.mid
            if i % 10 == 0 and m.timeframe == "15m" and m.asset in ("BTC", "ETH", "SOL", "XRP"):
                b = ex.book(m.up_token)
                if b is not None and b.spread is not None:
                    spreads[m.asset].append(b.spread)
        naive.step(now, live)
        if i % 21_600 == 0:
            print(f"  {i / 86_400:.2f} days, {len(outcomes)} windows, {time.perf_counter() - wall:.0f}s",
                  file=sys.stderr)
    report(args, outcomes, spreads, volumes, naive, time.perf_counter() - wall)


def fair_check(seed: int, rule: Literal["twap", "spot"], days: float) -> dict[str, dict[str, tuple[float, int]]]:
    """Flip rates by T-60 bucket from the makers' fair value alone (no books, no flow): many more
    windows in seconds, to tell model calibration from the sampling noise of the book-based table."""
    cfg = SimConfig(resolution_rule=rule)
    ex = SimExchange(seed + 1_000_003, cfg)
    rows: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for tf, length in (("5m", 300), ("15m", 900)):
        for asset in cfg.assets:
            for start in range(cfg.start_time, cfg.start_time + int(days * 86_400), length):
                m = make_market(seed, cfg, asset, tf, start, 0.01)
                p = ex.books.fair(m, m.end - 60)
                r = ex.oracle.resolve(asset, m.start, m.end)
                rows[tf].append((max(p, 1 - p), (r.winner is Outcome.UP) != (p >= 0.5)))
    out: dict[str, dict[str, tuple[float, int]]] = {}
    for tf, xs in rows.items():
        out[tf] = {"95+share": (100.0 * sum(f >= 0.95 for f, _ in xs) / len(xs), len(xs))}
        for lo, hi, name, _ in BUCKETS:
            sel = [flip for f, flip in xs if lo <= f < hi]
            out[tf][name] = (100.0 * sum(sel) / len(sel) if sel else float("nan"), len(sel))
    return out


def share_95(outcomes: list[tuple[str, str, float, bool]], asset: str | None, tf: str) -> tuple[float, int]:
    rows = [o for o in outcomes if o[1] == tf and (asset is None or o[0] == asset)]
    return (100.0 * sum(o[2] >= 0.95 for o in rows) / len(rows) if rows else float("nan")), len(rows)


def report(args: argparse.Namespace, outcomes: list, spreads: dict[str, list[float]], volumes: dict[str, list[float]],
           naive: NaiveTaker, wall: float) -> None:
    out: dict[str, object] = {"days": args.days, "seed": args.seed, "rule": args.rule, "wall_s": round(wall, 1)}
    print(f"\ncalibration: {args.days} days, seed {args.seed}, {args.rule} rule, {wall:.0f}s wall")
    print(f"{'figure':<34}{'measured':>12}{'target':>16}{'n':>8}")
    for label, asset, tf, target in (("BTC 15m fav >=0.95 at T-60 %", "BTC", "15m", "67 (65-70)"),
                                     ("BTC 5m fav >=0.95 at T-60 %", "BTC", "5m", "41"),
                                     ("all 15m fav >=0.95 at T-60 %", None, "15m", "67"),
                                     ("all 5m fav >=0.95 at T-60 %", None, "5m", "41")):
        v, n = share_95(outcomes, asset, tf)
        print(f"{label:<34}{v:>12.1f}{target:>16}{n:>8}")
        out[f"fav95_{(asset or 'all').lower()}_{tf}"] = round(v, 1)
    flips: dict[str, float] = {}
    for lo, hi, name, goal in BUCKETS:
        for tf in ("15m", "5m"):
            rows = [o for o in outcomes if o[1] == tf and lo <= o[2] < hi]
            rate = 100.0 * sum(o[3] for o in rows) / len(rows) if rows else float("nan")
            flips[f"{name}_{tf}"] = round(rate, 1)
            print(f"{'flip % fav ' + name + ' (' + tf + ', 6 coins)':<34}{rate:>12.1f}{goal:>16.1f}{len(rows):>8}")
    out["flip_pct"] = flips
    every = [x for xs in spreads.values() for x in xs]
    med = statistics.median(every) if every else float("nan")
    print(f"{'median spread 15m, 4 coins (c)':<34}{100 * med:>12.2f}{'1':>16}{len(every):>8}")
    out["spread_median_c"] = round(100 * med, 2)
    means: dict[str, float] = {}
    for asset, target in (("BTC", "1.1"), ("ETH", "1.2"), ("SOL", "1.5"), ("XRP", "1.6")):
        xs = spreads.get(asset, [])
        mean = 100 * statistics.fmean(xs) if xs else float("nan")
        means[asset] = round(mean, 2)
        print(f"{'mean spread ' + asset + ' 15m (c)':<34}{mean:>12.2f}{target:>16}{len(xs):>8}")
    out["spread_mean_c"] = means
    vols: dict[str, float] = {}
    for key in sorted(volumes):
        v = statistics.fmean(volumes[key])
        vols[key] = round(v)
        print(f"{'volume/window ' + key + ' ($)':<34}{v:>12,.0f}{VOLUME_TARGETS.get(key, '-'):>16}{len(volumes[key]):>8}")
    out["volume_usd"] = vols
    print(f"{'naive exchange-chaser P&L ($)':<34}{naive.pnl:>12,.2f}{'< 0':>16}{naive.trades:>8}")
    out["naive_pnl_usd"], out["naive_fills"] = round(naive.pnl, 2), naive.trades
    days = max(20.0, 10 * args.days)
    check = fair_check(args.seed, args.rule, days)
    print(f"\nmodel check: makers' fair value at T-60, {days:g} days x 6 coins (no books)")
    for tf in ("15m", "5m"):
        share, n = check[tf]["95+share"]
        print(f"{'fav >=0.95 at T-60 % (' + tf + ')':<34}{share:>12.1f}{'67' if tf == '15m' else '41':>16}{n:>8}")
        for _, _, name, goal in BUCKETS:
            rate, n = check[tf][name]
            print(f"{'flip % fav ' + name + ' (' + tf + ')':<34}{rate:>12.1f}{goal:>16.1f}{n:>8}")
    out["fair_check"] = {tf: {k: round(v[0], 1) for k, v in d.items()} for tf, d in check.items()}
    print(json.dumps(_finite(out), sort_keys=True))


def _finite(obj: object) -> object:
    """NaN (an empty bucket) is not JSON: report it as null."""
    if isinstance(obj, float) and math.isnan(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    return obj


if __name__ == "__main__":
    main()
