"""Replay throughput: `python bench/replay.py [--minutes M] [--slots 16] [--repeat 5] [--data FILE]
[--format-version V]`.

Converts M minutes of the simulator (6 assets, 5m + 15m, books at every 50 ms bucket where they
change) into a market-data file (the writer's format version, or --format-version 1), then
replays it through the real engine as `nonstop backtest` does (a scratch copy of a home with N
late-window-snipe slots, `build_engine`, `--speed max`, and the backtest's `drive`, which is
`Engine.run` with the start-up heap frozen), pinned to one core. Counts the book and trade
events read from the file per second (issue 8's target: >= 500 000 with 16 slots). Also reports
the venue alone (poll loop, no engine) so the engine's share is visible. Rates are per CPU second
of the process (the machine may be shared); wall-clock figures are printed too. The replay is run
--repeat times, each on a fresh scratch home (the same work: the same trades), and `events_per_s`
is the median run; the best and the worst are printed beside it (another tenant of a shared
machine only ever slows a run). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nonstop.backtest.runner import drive, prepare_home
from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.init import init_home
from nonstop.home.paths import Home
from nonstop.markets import ASSETS, TIMEFRAMES
from nonstop.venues.replay import FORMAT_VERSION, ReplayVenue, convert_sim
from nonstop.venues.sim import SimConfig


def snipe_slots(home: Home, n: int) -> None:
    text = home.config.read_text()
    head = text[: text.index("[[slot]]")]
    pairs = [(a, t) for a in ASSETS for t in TIMEFRAMES]
    blocks = [f'[[slot]]\nid = "snipe{i}"\nmodule = "late_window_snipe"\nclass = "LateWindowSnipe"\n'
              f'asset = "{pairs[i % len(pairs)][0]}"\ntimeframe = "{pairs[i % len(pairs)][1]}"\n' for i in range(n)]
    home.config.write_text(head + "\n".join(blocks))


def venue_only(path: Path) -> tuple[float, int]:
    venue = ReplayVenue([path])
    t, t0 = venue.start_time, time.process_time()
    while not venue.done:
        venue.poll(t)
        t += 1.0
    return time.process_time() - t0, venue.books_read + venue.prints_read


def replay_once(home: Home, root: Path, path: Path) -> tuple[float, float, ReplayVenue, int, Any]:
    """One replay as `nonstop backtest` runs it: (wall s, CPU s, venue, events read, engine)."""
    work = Home(root)
    prepare_home(home, work, {})  # the backtest's scratch copy
    engine = build_engine(work, RunOptions(venue="replay", speed=None, data=[str(path)], status_min_interval_s=1.0))
    venue = engine.venue
    t0, c0 = time.perf_counter(), time.process_time()
    drive(engine, None)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.close()
    return wall, cpu, venue, venue.books_read + venue.prints_read, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--slots", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="replay this file instead of converting")
    parser.add_argument("--repeat", type=int, default=5, help="replays of the same file; the median is reported")
    parser.add_argument("--format-version", type=int, default=FORMAT_VERSION, choices=(1, FORMAT_VERSION),
                        help="the market-data format version the converted file is written in")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, as the issue asks
    with tempfile.TemporaryDirectory() as tmp:
        path = args.data
        if path is None:
            path = Path(tmp) / "bench.nmd.gz"
            t0 = time.perf_counter()
            stats = convert_sim(path, args.seed, args.minutes * 60.0, SimConfig(), version=args.format_version)
            print(f"converted {stats.events} events ({stats.books} books) in {time.perf_counter() - t0:.1f} s, "
                  f"{path.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
        home = init_home(Path(tmp) / "home", seed=args.seed)
        snipe_slots(home, args.slots)
        runs = []
        for rep in range(max(1, args.repeat)):
            runs.append(replay_once(home, Path(tmp) / f"run{rep}", path))
            print(f"replay {rep + 1}: {runs[-1][3] / runs[-1][1]:,.0f} events per CPU second", file=sys.stderr)
        alone_s, alone_events = venue_only(path)
    if len({(r[2].events, r[2].books_read, r[3], r[4].cycle, r[4].positions.totals.orders) for r in runs}) != 1:
        raise SystemExit("the replays did not do the same work; the figures would not compare")
    runs.sort(key=lambda r: r[1])  # by CPU time
    wall, cpu, venue, events, engine = runs[len(runs) // 2]
    # Rates are per CPU second of this process (pinned to one core): on a shared machine the wall
    # clock also counts other programs' time; the wall figures are printed beside them.
    result = {
        "events": events, "events_per_s": round(events / cpu), "slots": args.slots,
        "events_per_wall_s": round(events / wall), "records": venue.events, "records_per_s": round(venue.events / cpu),
        "cycles": engine.cycle, "cycles_per_s": round(engine.cycle / cpu), "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "events_per_cycle": round(events / engine.cycle, 1),
        "venue_only_events_per_s": round(alone_events / alone_s),
        "orders": engine.positions.totals.orders, "target_events_per_s": 500_000,
        "format_version": venue.readers[0].header.version,
        "repeats": len(runs), "events_per_s_best": round(events / runs[0][1]),
        "events_per_s_worst": round(events / runs[-1][1]),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
