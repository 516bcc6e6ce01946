"""`nonstop record`: write a venue's market data (books, trades, spot and oracle prices, listings,
resolutions) to a file in the replay format, for `nonstop run --venue replay` and backtests."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Optional

import typer

from nonstop.cli.common import user_errors
from nonstop.cli.main import app
from nonstop.errors import UserError


@app.command()
@user_errors
def record(venue: str = typer.Option("polymarket", help="the venue to record (polymarket)"),
           out: Path = typer.Option(..., "--out", help="file to write, e.g. btc.nmd.gz"),
           duration: str = typer.Option("1h", help="how long, in venue time (30s, 90m, 6h)"),
           home: Optional[Path] = typer.Option(None, "--home", help="take hosts and slots from this home"),
           assets: str = typer.Option("BTC,ETH,SOL,XRP,DOGE,BNB", help="comma list (ignored with --home)"),
           timeframes: str = typer.Option("5m,15m", help="comma list (ignored with --home)"),
           period: float = typer.Option(1.0, help="frame period in venue seconds (the engine's period)")) -> None:
    """Record market data from Polymarket (or `nonstop sim-exchange`, via NONSTOP_POLYMARKET_HOST)."""
    from nonstop.engine.clock import RealClock, parse_duration
    from nonstop.markets import ASSETS, TIMEFRAMES

    if venue != "polymarket":
        raise UserError(f"--venue: cannot record {venue!r}; only polymarket is recorded (the sim converts its runs)")
    try:
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if not period > 0:
        raise UserError(f"--period: {period:g} must be > 0 seconds")
    if out.exists():
        raise UserError(f"--out: {out} exists; choose a new file name")
    if not out.parent.is_dir():
        raise UserError(f"--out: folder {out.parent} does not exist; create it first")
    table: dict = {}
    if home is not None:
        from nonstop.home.config import load_config
        from nonstop.home.paths import Home

        config = load_config(Home(home))
        table = config.polymarket
        pairs = sorted({(s.asset, s.timeframe) for s in config.slots})
    else:
        pairs = [(a.strip().upper(), t.strip()) for a in assets.split(",") if a.strip()
                 for t in timeframes.split(",") if t.strip()]
        bad = [p for p in pairs if p[0] not in ASSETS or p[1] not in TIMEFRAMES]
        if bad:
            raise UserError(f"--assets/--timeframes: unknown {bad[0]}; use assets {','.join(ASSETS)} and 5m,15m")
    from nonstop.venues.polymarket.record import Recorder
    from nonstop.venues.polymarket.settings import load_settings
    from nonstop.venues.polymarket.venue import PolymarketVenue

    settings = load_settings(table)
    clock = RealClock()
    if settings.clock == "server":
        from nonstop.venues.polymarket.clock import ServerClock

        clock = ServerClock.fetch(settings.hosts().get("clob_url", ""))  # type: ignore[assignment]
    v = PolymarketVenue(settings.model_copy(update={"record": ""}), pairs, None, clock)
    v.recorder = Recorder(out, period, {"pairs": [list(p) for p in pairs], "world": getattr(clock, "world", "")})
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    start = clock.now()
    v.start(start)
    next_at = start
    try:
        while next_at < start + seconds and not stop["now"]:
            clock.wait_until(next_at)
            v.poll(clock.now())
            next_at += period
    finally:
        v.close()
    w = v.recorder.writer
    frames, events = (w.frames, w.events) if w is not None else (0, 0)
    print(f"recorded {events} events in {frames} frames to {out}", flush=True)
