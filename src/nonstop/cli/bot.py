"""Bot commands: init, run, status."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from nonstop.cli.common import user_errors
from nonstop.cli.main import app
from nonstop.engine.build import RunOptions, build_engine
from nonstop.engine.clock import parse_duration, parse_speed
from nonstop.errors import UserError
from nonstop.home.init import init_home
from nonstop.home.paths import Home
from nonstop.status.writer import read_status


@app.command()
@user_errors
def init(home: Path = typer.Argument(..., help="folder to create the home in"),
         seed: int = typer.Option(7, help="the sim's seed written to nonstop.toml"),
         force: bool = typer.Option(False, help="overwrite an existing nonstop.toml")) -> None:
    """Create a home: nonstop.toml with 16 slots, control.json, two example strategies."""
    h = init_home(home, seed, force)
    print(f"initialised {h.root}: 16 slots (6 assets x 5m/15m), strategies in {h.strategies}")


def summary_line(engine) -> str:  # type: ignore[no-untyped-def]
    t = engine.positions.totals
    rate = f"{100.0 * t.wins / t.trades:.1f}%" if t.trades else "n/a"
    return (f"summary: cycles={engine.cycle} trades={t.trades} win_rate={rate} "
            f"pnl={t.realized_pnl:+.2f} fees={t.fees:.2f} orders={t.orders} venue={engine.venue.name}")


@app.command()
@user_errors
def run(home: Path = typer.Option(..., "--home", help="the bot's home directory"),
        venue: Optional[str] = typer.Option(None, help="sim | replay | polymarket (default: nonstop.toml)"),
        seed: Optional[int] = typer.Option(None, help="simulator seed (default: nonstop.toml)"),
        speed: str = typer.Option("1", help="venue seconds per wall second, or 'max'"),
        duration: str = typer.Option("365d", help="how long to run, in venue time (30s, 90m, 6h, 2d)"),
        data: Optional[list[str]] = typer.Option(None, help="replay data files (--venue replay)"),
        live: bool = typer.Option(False, help="send real orders (polymarket only; needs credentials)")) -> None:
    """Run the bot: the cycle, until --duration of venue time has passed or SIGTERM/SIGINT."""
    try:
        speed_value = parse_speed(speed)
        seconds = parse_duration(duration)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    h = Home(home)
    if not h.root.is_dir():
        raise UserError(f"--home: {home} is not a directory; create one with `nonstop init {home}`")
    engine = build_engine(h, RunOptions(venue=venue, seed=seed, speed=speed_value, live=live, data=data))

    def stop(signum: int, frame: object) -> None:
        engine.stop_requested = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        engine.run(seconds)
    finally:
        engine.close()
    print(summary_line(engine), flush=True)


@app.command()
@user_errors
def status(home: Path = typer.Option(..., "--home", help="the bot's home directory"),
           as_json: bool = typer.Option(False, "--json", help="print status.json as it is")) -> None:
    """Show what the bot last said about itself."""
    h = Home(home)
    doc = read_status(h.status)
    if doc is None:
        raise UserError(f"{h.status}: no status yet; is the bot running? start it with `nonstop run --home {home}`")
    if as_json:
        print(json.dumps(doc, indent=2))
        return
    from nonstop.cli.view import render_status

    render_status(doc, time.time())


def _excepthook_note() -> None:
    sys.stderr.flush()
