"""Engine overhead per cycle, excluding strategy code: `python bench/cycle.py [--slots N] [--cycles C]`.

Runs the real engine on the embedded simulator at --speed max with the default
strategies spread over N slots, status.json written every cycle, and reports the cycle's
total time minus the time inside decide() and inside the venue's poll (the simulator's own
work, reported apart as venue_ms). status.json is written right after the cycle, first thing in
`between_cycles` (no order waits for it): its time is reported as status_ms, and the overhead
with it added as overhead_with_status_ms (what "overhead" meant before it moved). Each cycle is followed by
`Engine.between_cycles` with automatic garbage collection off, as `Engine.run` does: that work
(collections, off-cycle reload work) is in the slack of the period, reported apart as slack_ms.
Targets (issue 3): p99 < 1 ms for 16 slots, < 20 ms for 1000 slots.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.init import init_home
from nonstop.home.paths import Home
from nonstop.markets import ASSETS, TIMEFRAMES


def write_slots(home: Home, n: int) -> None:
    text = home.config.read_text()
    head = text[: text.index("[[slot]]")]
    pairs = [(a, t) for a in ASSETS for t in TIMEFRAMES]
    blocks = []
    for i in range(n):
        asset, tf = pairs[i % len(pairs)]
        snipe = (i // len(pairs)) % 4 != 3
        module, cls = ("late_window_snipe", "LateWindowSnipe") if snipe else ("momentum", "Momentum")
        blocks.append(f'[[slot]]\nid = "s{i}"\nmodule = "{module}"\nclass = "{cls}"\nasset = "{asset}"\n'
                      f'timeframe = "{tf}"\n')
    home.config.write_text(head + "\n".join(blocks))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--cycles", type=int, default=3600)
    parser.add_argument("--warmup", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = init_home(Path(tmp) / "home", seed=args.seed)
        if args.slots != 16:
            write_slots(home, args.slots)
        engine = build_engine(home, RunOptions(speed=None, status_min_interval_s=0.0))
        engine.venue.start(engine.clock.now())
        overhead, total, venue, status = [], [], [], []
        slack: list[float] = []
        with_status: list[float] = []
        t_start = time.perf_counter()
        with engine.collector.deferred():
            for i in range(args.warmup + args.cycles):
                engine.step()
                engine.between_cycles()
                engine.clock.wait_until(engine.clock.now() + engine.period)
                if i >= args.warmup:
                    overhead.append(engine.timing.overhead_ms)
                    total.append(engine.timing.total_ms)
                    venue.append(engine.timing.venue_ms)
                    slack.append(engine.slack_ms)
                    status.append(engine.timing.status_ms)
                    with_status.append(engine.timing.overhead_ms + engine.timing.status_ms)
                if i % 600 == 0:
                    print(f"cycle {i}/{args.warmup + args.cycles}", file=sys.stderr)
        wall = time.perf_counter() - t_start
        engine.close()
    result = {
        "slots": args.slots, "cycles": args.cycles,
        "overhead_ms_p50": round(statistics.median(overhead), 4),
        "overhead_ms_p99": round(percentile(overhead, 0.99), 4),
        "overhead_ms_max": round(max(overhead), 4),
        "cycle_ms_p50": round(statistics.median(total), 4),
        "venue_ms_p50": round(statistics.median(venue), 4),
        "slack_ms_p50": round(statistics.median(slack), 4), "slack_ms_p99": round(percentile(slack, 0.99), 4),
        "slack_ms_max": round(max(slack), 4), "gc_collections": engine.collector.collections,
        "status_every_cycle": True,
        "status_ms_p50": round(statistics.median(status), 4), "status_ms_p99": round(percentile(status, 0.99), 4),
        "overhead_with_status_ms_p50": round(statistics.median(with_status), 4),
        "overhead_with_status_ms_p99": round(percentile(with_status, 0.99), 4),
        "wall_s": round(wall, 2),
        "orders": engine.positions.totals.orders, "trades": engine.positions.totals.trades,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
