"""`nonstop demo`: a fresh home, the sim bot and Mission Control as two processes, a live terminal view.

The bot and Mission Control are separate processes by design (they share files, not memory);
the demo only starts them, watches status.json, and stops both on Ctrl-C.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import typer

from nonstop.cli.common import user_errors
from nonstop.cli.main import app
from nonstop.errors import UserError
from nonstop.home.init import init_home
from nonstop.home.paths import Home
from nonstop.status.writer import read_status

DEFAULT_PORT = 8787


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches the demo only, which then stops each child in order.
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "nonstop", *args], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_for_url(mc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Mission Control: "):
                return line.split(": ", 1)[1].strip()
        if mc.poll() is not None:
            raise UserError(f"mission-control exited with {mc.returncode}; see {log}")
        time.sleep(0.1)
    raise UserError(f"mission-control printed no URL within {timeout:.0f}s; see {log}")


def _stop(children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    for _, proc in children:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for name, proc in children:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            print(f"{name} (pid {proc.pid}) did not stop in 15 s; killing it", file=sys.stderr)
            proc.kill()
            proc.wait(5)


def _watch(home: Home, url: str, children: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
    from rich.console import Group
    from rich.live import Live
    from rich.text import Text

    from nonstop.cli.view import status_renderable

    def frame() -> Any:
        head = Text.assemble(("Mission Control ", "bold"), (url, "cyan underline"), "  ·  Ctrl-C stops the bot and Mission Control")
        doc = read_status(home.status)
        return Group(head, status_renderable(doc, time.time()) if doc else Text("waiting for the bot's first status…"))

    with Live(frame(), refresh_per_second=4, transient=False) as live:
        while all(proc.poll() is None for _, proc in children):
            time.sleep(0.25)
            live.update(frame())
    for name, proc in children:
        if proc.poll() is not None:
            print(f"{name} exited with {proc.returncode}; stopping the demo", file=sys.stderr)


@app.command()
@user_errors
def demo(home: Optional[Path] = typer.Option(None, "--home", help="home to use (default: a fresh ./homes/demo-<time>)"),
         speed: str = typer.Option("10", help="venue seconds per wall second"),
         port: int = typer.Option(DEFAULT_PORT, help="Mission Control's port (a free one when this is taken)"),
         seed: int = typer.Option(7, help="the simulator's seed for a new home")) -> None:
    """The sim bot and Mission Control together: prints the dashboard URL, shows a live terminal view."""
    root = home or Path("homes") / f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    h = Home(root)
    if not h.config.exists():
        init_home(root, seed)
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    if port and not _port_free(port):
        print(f"port {port} is taken; Mission Control will pick a free one", file=sys.stderr)
        port = 0
    bot = _spawn(["run", "--home", str(root), "--speed", speed], logs / "bot.log")
    mc = _spawn(["mission-control", "--home", str(root), "--port", str(port)], logs / "mission-control.log")
    children = [("the bot", bot), ("mission-control", mc)]
    stop_requested = False

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (`cmd &`)
    try:
        url = _wait_for_url(mc, logs / "mission-control.log")
        print(f"home      {root}\ndashboard {url}\nbot pid {bot.pid} · mission-control pid {mc.pid} · logs in {logs}",
              flush=True)
        _watch(h, url, children)
    except KeyboardInterrupt:
        stop_requested = True
    finally:
        _stop(children)
    summary = [ln for ln in (logs / "bot.log").read_text(errors="replace").splitlines() if ln.startswith("summary:")]
    print("\n" + (summary[-1] if summary else "the bot printed no summary"), flush=True)
    if not stop_requested:
        raise typer.Exit(1)
