"""`nonstop sim-exchange`: serve the simulator as a Polymarket-shaped venue on loopback."""

from __future__ import annotations

from typing import Optional

import typer

from nonstop.cli.common import user_errors
from nonstop.cli.main import app
from nonstop.errors import UserError


@app.command("sim-exchange")
@user_errors
def sim_exchange(port: int = typer.Option(8780, help="TCP port on 127.0.0.1 (0: any free port)"),
                 seed: int = typer.Option(7, help="simulator seed"),
                 speed: float = typer.Option(1.0, help="venue seconds per wall second"),
                 start: Optional[int] = typer.Option(None, help="venue start time, unix seconds (default: now)"),
                 assets: Optional[str] = typer.Option(None, help="comma list, e.g. BTC,ETH (default: all)"),
                 timeframes: Optional[str] = typer.Option(None, help="comma list of 5m,15m (default: both)"),
                 heartbeat_timeout: float = typer.Option(10.0, help="wall seconds without a heartbeat before cancel-all"),
                 settle: float = typer.Option(1.0, help="venue seconds from MATCHED to MINED"),
                 confirm: float = typer.Option(3.0, help="venue seconds from MATCHED to CONFIRMED"),
                 collateral: float = typer.Option(10_000.0, help="pUSD each new API key starts with")) -> None:
    """Serve Polymarket's Gamma, CLOB V2 REST and WebSocket subset from the simulator (Ctrl-C stops)."""
    if not 0 <= port <= 65535:
        raise UserError(f"--port: {port} is not a TCP port; use 0..65535")
    if not speed > 0:
        raise UserError(f"--speed: {speed:g} must be > 0; give a factor such as 1 or 60")
    from pydantic import ValidationError

    from nonstop.venues.exchange_server import Options, fake_config, serve
    from nonstop.venues.exchange_server.launch import ready_line

    try:
        config = fake_config(start, _split(assets, upper=True), _split(timeframes))
        options = Options(speed=speed, settle_s=settle, confirm_s=max(confirm, settle),
                          heartbeat_timeout_s=heartbeat_timeout, collateral=collateral)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "options"
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix(f"{field}: ")
        raise UserError(f"--{field}: {msg}") from None

    def ready(bound: int) -> None:
        print(ready_line(bound, seed, speed), flush=True)

    try:
        serve(port, seed, options, config, on_ready=ready)
    except OSError as exc:
        raise UserError(f"--port: cannot listen on 127.0.0.1:{port} ({exc.strerror}); pick another port") from None


def _split(text: Optional[str], upper: bool = False) -> tuple[str, ...] | None:
    if not text:
        return None
    items = tuple(p.strip() for p in text.split(",") if p.strip())
    return tuple(p.upper() for p in items) if upper else items
