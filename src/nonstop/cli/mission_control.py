"""`nonstop mission-control`: the web control plane for one home."""

from __future__ import annotations

from pathlib import Path

import typer

from nonstop.cli.common import user_errors
from nonstop.cli.main import app
from nonstop.errors import UserError
from nonstop.home.paths import Home


@app.command("mission-control")
@user_errors
def mission_control(home: Path = typer.Option(..., "--home", help="the bot's home directory"),
                    host: str = typer.Option("127.0.0.1", help="address to listen on (loopback unless --allow-remote)"),
                    port: int = typer.Option(8787, help="port to listen on; 0 picks a free one"),
                    allow_remote: bool = typer.Option(False, "--allow-remote",
                                                      help="allow a non-loopback --host")) -> None:
    """Serve the API and dashboard: writes control.json, reads status.json; never talks to the bot."""
    from nonstop.mission_control.auth import load_or_create_token
    from nonstop.mission_control.server import ServeOptions, check_host, serve

    h = Home(home)
    if not h.control.exists():
        raise UserError(f"--home: {home} has no control.json; create a home with `nonstop init {home}`")
    opts = ServeOptions(host=host, port=port, allow_remote=allow_remote)
    check_host(opts)  # before anything is written in the home
    serve(h, opts, load_or_create_token(h))
